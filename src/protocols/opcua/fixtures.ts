// Annotated OPC UA chunks for the tests, field by field, taken from the shared captures
// (open62541-read-service-test-data.pcap, opcua-with-gap-with-handshake.pcapng, malcolm-opcua-binary.pcap).

import { hex } from './test-support.ts';

// open62541-read-service-test-data.pcap frame 5
export const HEL = hex(`
  48454c 46          // HEL, final chunk
  38000000           // MessageSize 56
  00000000           // ProtocolVersion 0
  00000200           // ReceiveBufferSize 131072
  00000200           // SendBufferSize 131072
  00004000           // MaxMessageSize 4194304
  80000000           // MaxChunkCount 128
  18000000 6f70632e7463703a2f2f6c6f63616c686f73743a34383430  // EndpointUrl "opc.tcp://localhost:4840"
`);

// frame 7
export const ACK = hex(`
  41434b 46 1c000000 // ACK, final, size 28
  00000000           // ProtocolVersion
  00000200 00000200  // Receive/SendBufferSize 131072
  00004000 80000000  // MaxMessageSize, MaxChunkCount
`);

const NONE_URI =
  '2f000000 687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f5365637572697479506f6c696379234e6f6e65';

// frame 9
export const OPN_REQUEST = hex(`
  4f504e 46 84000000 // OPN, final, size 132
  00000000           // SecureChannelId 0 (not assigned yet)
  ${NONE_URI}        // SecurityPolicyUri ".../SecurityPolicy#None"
  ffffffff           // SenderCertificate null
  ffffffff           // ReceiverCertificateThumbprint null
  01000000           // SequenceNumber 1
  01000000           // RequestId 1
  0100be01           // TypeId: four-byte NodeId ns=0 i=446 OpenSecureChannelRequest
  0000               //   RequestHeader.AuthenticationToken: two-byte NodeId 0
  4884004ba2d9d801   //   Timestamp
  00000000           //   RequestHandle 0
  00000000           //   ReturnDiagnostics
  ffffffff           //   AuditEntryId null
  00000000           //   TimeoutHint
  000000             //   AdditionalHeader: null ExtensionObject
  00000000           // ClientProtocolVersion 0
  00000000           // RequestType Issue
  01000000           // SecurityMode None
  ffffffff           // ClientNonce null
  c0270900           // RequestedLifetime 600000 ms
`);

// frame 11
export const OPN_RESPONSE = hex(`
  4f504e 46 87000000 // OPN, final, size 135
  01000000           // SecureChannelId 1
  ${NONE_URI}        // SecurityPolicyUri
  ffffffff ffffffff  // no certificate, no thumbprint
  01000000 01000000  // SequenceNumber 1, RequestId 1
  0100c101           // TypeId ns=0 i=449 OpenSecureChannelResponse
  ee88004ba2d9d801   //   ResponseHeader.Timestamp
  00000000           //   RequestHandle 0
  00000000           //   ServiceResult Good
  00                 //   ServiceDiagnostics: empty DiagnosticInfo
  ffffffff           //   StringTable null
  000000             //   AdditionalHeader null
  00000000           // ServerProtocolVersion
  01000000 01000000  // SecurityToken.ChannelId 1, TokenId 1
  ee88004ba2d9d801   // SecurityToken.CreatedAt
  c0270900           // SecurityToken.RevisedLifetime 600000
  ffffffff           // ServerNonce null
`);

// frame 25
export const READ_REQUEST = hex(`
  4d5347 46 7f000000 // MSG, final, size 127
  01000000           // SecureChannelId 1
  01000000           // TokenId 1
  05000000 05000000  // SequenceNumber 5, RequestId 5
  01007702           // TypeId ns=0 i=631 ReadRequest
  04 0100 a652a8f997e4a4d416f11fd1fbef7ed7 // AuthenticationToken: Guid NodeId ns=1
  d6af004ba2d9d801   // Timestamp
  06000000           // RequestHandle 6
  00000000 ffffffff 00000000 000000 // ReturnDiagnostics, AuditEntryId, TimeoutHint, AdditionalHeader
  0000000000000000   // MaxAge 0.0
  00000000           // TimestampsToReturn Source
  01000000           // NodesToRead: 1
  03 0100 10000000 426f6f6c65616e2e5661726961626c65 // String NodeId ns=1 "Boolean.Variable"
  0d000000           //   AttributeId 13 (Value)
  ffffffff           //   IndexRange null
  0000 ffffffff      //   DataEncoding: QualifiedName 0:null
`);

// frame 27
export const READ_RESPONSE = hex(`
  4d5347 46 47000000 // MSG, final, size 71
  01000000 01000000  // SecureChannelId, TokenId
  05000000 05000000  // SequenceNumber 5, RequestId 5
  01007a02           // TypeId ns=0 i=634 ReadResponse
  1eb3004ba2d9d801 06000000 00000000 00 ffffffff 000000 // ResponseHeader: handle 6, Good
  01000000           // Results: 1
  05 01 00 1eb3004ba2d9d801 // DataValue: Value (Boolean false), SourceTimestamp
  ffffffff           // DiagnosticInfos null
`);

// opcua-with-gap-with-handshake.pcapng frame 350
export const WRITE_REQUEST = hex(`
  4d5347 46 6d000000 // MSG, final, size 109
  0a000000 0a000000  // SecureChannelId 10, TokenId 10
  15000000 15000000  // SequenceNumber 21, RequestId 21
  0100a102           // TypeId ns=0 i=673 WriteRequest
  04 0100 70f93e4d380fc4986a4624f2ff6fa68a // AuthenticationToken (Guid)
  1aa28ceede0cd601 16000000 00000000 ffffffff 00000000 000000 // Timestamp, handle 22, ...
  01000000           // NodesToWrite: 1
  03 0100 0a000000 7468652e616e73776572 // NodeId ns=1 "the.answer"
  0d000000           //   AttributeId 13 (Value)
  ffffffff           //   IndexRange null
  01 06 01000000     //   DataValue: Value = Variant Int32 1
`);

// frame 352
export const WRITE_RESPONSE = hex(`
  4d5347 46 40000000 0a000000 0a000000 // MSG, size 64, channel 10, token 10
  0b000000 15000000  // SequenceNumber 11, RequestId 21
  0100a402           // TypeId ns=0 i=676 WriteResponse
  5a5f94eede0cd601 16000000 00000000 00 ffffffff 000000 // ResponseHeader: handle 22, Good
  01000000 00003480  // Results: [BadNodeIdUnknown]
  ffffffff           // DiagnosticInfos null
`);

// malcolm-opcua-binary.pcap frame 1165
export const SERVICE_FAULT = hex(`
  4d5347 46 34000000 02000000 02000000 // MSG, size 52, channel 2, token 2
  0d000000 0d000000  // SequenceNumber 13, RequestId 13
  01008d01           // TypeId ns=0 i=397 ServiceFault
  82c2397f6d9cd801   // Timestamp
  0c000000           // RequestHandle 12
  00007980           // ServiceResult 0x80790000 BadNoSubscription
  00 ffffffff 000000 // no diagnostics, no string table, no additional header
`);
