// A Redis message handler: the export fermyon:spin/inbound-redis of the
// world in wit/world.wit. Returning normally acknowledges the message;
// throwing fails it.
export const inboundRedis = {
  handleMessage(payload) {
    const text = new TextDecoder().decode(payload);
    console.log(`{{id}} received: ${text}`);
  },
};
