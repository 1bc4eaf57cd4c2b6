// A Redis handler that calls fetch() on each message: the payload is a URL; the handler
// GETs it and prints the status, content type and body size.
const decoder = new TextDecoder();

export const inboundRedis = {
  async handleMessage(payload) {
    const url = decoder.decode(payload).trim();
    try {
      const resp = await fetch(url);
      const body = await resp.arrayBuffer();
      console.log(`GET ${url}: ${resp.status}, ${resp.headers.get("content-type")}, ${body.byteLength} bytes`);
    } catch (e) {
      console.log(`GET ${url} failed: ${e}`);
      throw "error";
    }
  },
};
