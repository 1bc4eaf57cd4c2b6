// js-platform's MQTT command (appended after sqlite.js), over fermyon:spin/mqtt@2.0.0, as the
// c-mqtt guest's (../c-mqtt/c-mqtt.c):
//   mqtt:<address>|<username>|<password>|<keep-alive secs>|<topic>|<qos 0-2>|<payload>|...
// publishes each payload in turn on one connection and prints "published <n>"; an error
// prints "<step>: <case>[: <message>]" on stderr and fails the message.
import { Connection as Mqtt } from "fermyon:spin/mqtt@2.0.0";

const QOS = ["at-most-once", "at-least-once", "exactly-once"];

function mqtt(arg) {
  const [address, user, pass, keepAlive, topic, qos, ...payloads] = arg.split("|");
  if (qos === undefined) unsupported("mqtt");
  let conn;
  try {
    conn = Mqtt.open(address, user, pass, BigInt(keepAlive));
  } catch (e) {
    fail("open", e);
  }
  try {
    let n = 0;
    for (const m of payloads) {
      try {
        conn.publish(topic, new TextEncoder().encode(m), QOS[Number(qos)]);
      } catch (e) {
        fail("publish", e);
      }
      n++;
    }
    console.log(`published ${n}`);
  } finally {
    conn[Symbol.dispose ?? Symbol.for("dispose")]?.();
  }
}

platformCommands.mqtt = mqtt;
