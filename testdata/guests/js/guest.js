// The JavaScript test guest (componentize-js / StarlingMonkey). One source serves the
// js, js-j2w and js-platform guests: the build replaces __GUEST__ with the guest's name.
// The component export `fermyon:spin/inbound-redis` is the JS export `inboundRedis`.
// Protocol: ../README.md. Returning normally gives ok(()); throwing an `error` enum case
// ("error" or "success") gives err(case).
const NAME = "__GUEST__";
const decoder = new TextDecoder();

function unsupported(cmd) {
  console.error(`unsupported:${cmd}`);
  throw "error";
}

export const inboundRedis = {
  handleMessage(payload) {
    const text = decoder.decode(payload);
    const colon = text.indexOf(":");
    const cmd = colon < 0 ? text : text.slice(0, colon);
    const arg = colon < 0 ? "" : text.slice(colon + 1);
    switch (cmd) {
      case "print":
        console.log(arg);
        return;
      case "stderr":
        console.error(arg);
        return;
      case "fail":
        throw "error";
      case "errsuccess":
        throw "success";
      case "trap":
        // Not an `error` case: the bindings cannot lower it and the component traps.
        throw new Error("trap requested");
      case "loop":
        for (;;) {}
      case "alloc": {
        const mib = Number(arg);
        if (!(mib > 0)) {
          console.error(`alloc:${arg}: want a positive number of MiB`);
          throw "error";
        }
        let buf;
        try {
          buf = new Uint8Array(mib * 1024 * 1024);
        } catch (e) {
          console.error(`alloc:${mib}: out of memory`);
          throw "error";
        }
        for (let i = 0; i < buf.length; i += 4096) buf[i] = 1;
        console.log(`alloc:${mib} ok`);
        return;
      }
      case "env":
      case "file":
        return unsupported(cmd);
      case "len":
        console.log(`len=${payload.length}`);
        return;
      default:
        console.log(`${NAME} got ${payload.length} bytes`);
    }
  },
};
