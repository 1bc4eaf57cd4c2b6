// A Redis Stream handler: the export fermyon:spin/inbound-redis of the
// world in wit/world.wit gets each stream entry's "payload" field.
// Returning normally acknowledges the entry; throwing "error" (the WIT
// error value) is a failed delivery: the entry stays pending and is
// delivered again, and after max_deliveries it goes to the dead-letter
// stream. Any other exception traps, which fails the delivery too.
export const inboundRedis = {
  handleMessage(payload) {
    const text = new TextDecoder().decode(payload);
    console.log(`{{id}} received: ${text}`);
    if (text === "fail") {
      console.error('refusing "fail" (to show retries and dead letters)');
      throw "error";
    }
  },
};
