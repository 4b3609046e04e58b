// Annotated MQTT packets for the tests, field by field, taken from the shared captures
// (zeek-mqtt.pcap: MQTT 3.1; suricata-mqtt311-pub-qos2.pcap: 3.1.1; suricata-mqtt5-*.pcap: 5.0).

import { hex } from '../opcua/test-support.ts';

// zeek-mqtt.pcap frame 1
export const CONNECT_31 = hex(`
  10 25                                   // CONNECT, remaining length 37
  0006 4d5149736470                       // protocol name "MQIsdp"
  03                                      // protocol level 3 (MQTT 3.1)
  02                                      // connect flags: clean session
  0005                                    // keep alive 5 s
  0017 7061686f2f333441414535344137354438333935363645 // client id "paho/34AAE54A75D839566E"
`);
export const CONNACK_OK = hex('20 02 00 00 // CONNACK: no session present, accepted');
// frame 3
export const SUBSCRIBE_31 = hex(`
  82 10                                   // SUBSCRIBE (flags 0010), remaining length 16
  0001                                    // packet id 1
  000b 53616d706c65546f706963 00          // filter "SampleTopic", QoS 0
`);
export const SUBACK_31 = hex('90 03 0001 00 // SUBACK packet id 1, granted QoS 0');
// frame 5: the broker delivers a retained message
export const PUBLISH_RETAINED = hex(`
  31 30                                   // PUBLISH, QoS 0, retain; remaining length 48
  000b 53616d706c65546f706963             // topic "SampleTopic"
  48656c6c6f2066726f6d20746865205061686f20626c6f636b696e6720636c69656e74 // payload (35 bytes)
`);
export const PINGREQ = hex('c0 00');
export const PINGRESP = hex('d0 00');
export const DISCONNECT = hex('e0 00');

// suricata-mqtt311-pub-qos2.pcap frames 4, 8-11
export const CONNECT_311 = hex(`
  10 2b                                   // CONNECT, remaining length 43
  0004 4d515454                           // protocol name "MQTT"
  04                                      // level 4 (3.1.1)
  c2                                      // flags: user name, password, clean session
  003c                                    // keep alive 60 s
  0013 6d79766f69636569736d7970617373706f7274 // client id "myvoiceismypassport"
  0004 75736572                           // user name (presence only is kept)
  0004 70617373                           // password (never read)
`);
export const PUBLISH_QOS2 = hex(`
  34 1a                                   // PUBLISH, QoS 2; remaining length 26
  0006 746f70696358                       // topic "topicX"
  0001                                    // packet id 1
  626161626161626c61636b7368656570        // payload "baabaablacksheep"
`);
export const PUBREC = hex('50 02 0001');
export const PUBREL = hex('62 02 0001 // PUBREL (flags 0010)');
export const PUBCOMP = hex('70 02 0001');

// suricata-mqtt5-sub-mosquittoprops.pcap frame 4
export const CONNECT_5 = hex(`
  10 cc01                                 // CONNECT, remaining length 204
  0004 4d515454 05                        // "MQTT", level 5
  c6                                      // flags: user name, password, will, clean start
  003c                                    // keep alive 60 s
  3c                                      // properties: 60 bytes
    27 00002b67                           //   Maximum Packet Size 11111
    21 00de                               //   Receive Maximum 222
    11 0000022b                           //   Session Expiry Interval 555
    22 029a                               //   Topic Alias Maximum 666
    26 0009 7573657270726f7031 0008 7573657276616c31 // User Property userprop1=userval1
    26 0009 7573657270726f7032 0008 7573657276616c32 // User Property userprop2=userval2
  0013 6d79766f69636569736d7970617373706f7274 // client id "myvoiceismypassport"
  4b                                      // will properties: 75 bytes
    03 000a 6d7977696c6c74797065          //   Content Type "mywilltype"
    09 0007 31323334353637                //   Correlation Data
    02 00000085                           //   Message Expiry Interval 133
    01 90                                 //   Payload Format Indicator
    08 000f 726573706f6e73655f746f70696331 // Response Topic "response_topic1"
    26 0009 7573657270726f7035 0008 7573657276616c35 // User Property
    18 000000c8                           //   Will Delay Interval 200
  0009 77696c6c746f706963                 // will topic "willtopic"
  000b 77696c6c6d657373616765             // will payload "willmessage"
  0004 75736572                           // user name
  0004 70617373                           // password
`);
// frame 6
export const CONNACK_5 = hex(`
  20 06 00 00                             // CONNACK, no session, Success
  03 22 000a                              // properties: Topic Alias Maximum 10
`);
// frames 8, 9
export const SUBSCRIBE_5 = hex(`
  82 15 0001                              // SUBSCRIBE, remaining length 21, packet id 1
  00                                      // no properties
  0006 746f70696358 00                    // "topicX", options: QoS 0
  0006 746f70696359 00                    // "topicY", options: QoS 0
`);
export const SUBACK_5 = hex('90 05 0001 00 00 00 // SUBACK id 1, no properties, granted QoS 0, 0');
// frame 11
export const DISCONNECT_5 = hex(`
  e0 1d                                   // DISCONNECT, remaining length 29
  04                                      // reason: Disconnect with Will Message
  1b                                      // properties: 27 bytes
    11 0000007a                           //   Session Expiry Interval 122
    26 0009 7573657270726f7034 0008 7573657276616c34 // User Property
`);
// suricata-mqtt5-pub-jpeg.pcap frame 6: the broker assigns a client id to a CONNECT without one
export const CONNACK_5_ASSIGNED = hex(`
  20 32 00 00 2f                          // CONNACK, Success, properties: 47 bytes
  22 000a                                 //   Topic Alias Maximum 10
  12 0029 6175746f2d31423433453830302d303845332d334241312d324539372d453941304234303634424635
                                          //   Assigned Client Identifier "auto-1B43E800-08E3-3BA1-2E97-E9A0B4064BF5"
`);
export const CONNECT_5_NO_ID = hex(`
  10 1c 0004 4d515454 05 c2 003c          // CONNECT, "MQTT" 5, user name, password, clean start
  03 21 0014                              // properties: Receive Maximum 20
  0000                                    // empty client id
  0004 75736572 0004 70617373             // user name, password
`);
