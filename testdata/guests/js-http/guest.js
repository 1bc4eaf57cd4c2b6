// The JavaScript fetch guest (componentize-js / StarlingMonkey): each message is a
// command that calls fetch() through wasi:http and prints what it got, one line each.
//   get:URL            GET with an x-test header: "get <status> <x-echo header> <body>"
//   post:URL           POST a JSON body: "post <status> <body>"
//   all:URL URL ...    the URLs fetched at once (Promise.all): "all <status>,<status>,..."
//   count:URL          stream the body and count it: "count <status> <bytes>"
//   fail:URL           a fetch expected to fail: "fail <error>"
// An unexpected failure throws "error" (err(error) to the host).
const decoder = new TextDecoder();

async function run(cmd, arg) {
  switch (cmd) {
    case "get": {
      const r = await fetch(arg, { headers: { "x-test": "hello", "Host": "evil.example" } });
      console.log(`get ${r.status} ${r.headers.get("x-echo")} ${await r.text()}`);
      return;
    }
    case "post": {
      const r = await fetch(arg, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: 42, s: "héllo" }),
      });
      console.log(`post ${r.status} ${await r.text()}`);
      return;
    }
    case "all": {
      const rs = await Promise.all(arg.split(" ").map((u) => fetch(u)));
      const bodies = await Promise.all(rs.map((r) => r.text()));
      console.log(`all ${rs.map((r) => r.status).join(",")} ${bodies.join(",")}`);
      return;
    }
    case "count": {
      const r = await fetch(arg);
      const reader = r.body.getReader();
      let n = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.length;
      }
      console.log(`count ${r.status} ${n}`);
      return;
    }
    case "fail":
      try {
        const r = await fetch(arg);
        console.log(`fail unexpectedly got ${r.status}`);
      } catch (e) {
        console.log(`fail ${e}`);
      }
      return;
  }
  console.error(`unknown command ${cmd}`);
  throw "error";
}

export const inboundRedis = {
  async handleMessage(payload) {
    const text = decoder.decode(payload);
    const colon = text.indexOf(":");
    await run(text.slice(0, colon), text.slice(colon + 1));
  },
};
