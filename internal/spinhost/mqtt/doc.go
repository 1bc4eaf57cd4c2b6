// Package mqtt implements Spin's outbound MQTT interface
// (fermyon:spin/mqtt@2.0.0) in plain Go, on the Eclipse Paho client (MQTT
// 3.1.1, the protocol of the rumqttc client Spin uses).
//
// It follows Spin's host (crates/factor-outbound-mqtt):
//   - open(address, username, password, keep-alive-interval-in-secs) checks
//     the address against allowed_outbound_hosts first (a denied address is
//     connection-failed("address … is not permitted")), then takes one of
//     the app's [outbound_mqtt] max_connections (waiting for one, within
//     the message's deadline), and parses the address as rumqttc does:
//     mqtt:// or tcp:// (port 1883 by default), mqtts:// or ssl:// (TLS with
//     the system roots, or Settings.RootCAs, port 8883), and a required client_id query
//     parameter; anything else is invalid-address. Like Spin, open does not
//     connect: the first publish does, and its failure is
//     connection-failed.
//   - publish(topic, payload, qos) returns after the PUBLISH is written for
//     QoS 0 (at-most-once), after the PUBACK for QoS 1, after the PUBCOMP
//     for QoS 2; a payload over max_payload_size_bytes is other("payload
//     size N exceeds the maximum allowed size of M bytes").
//   - A message may hold 1024 connections; they are closed (DISCONNECT) when
//     it ends, and their max_connections slots are given back.
package mqtt
