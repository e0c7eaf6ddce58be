/*
 * FaceLink wearable serial protocol, version 1: framing and message codecs.
 *
 * Plain portable C99: no Arduino headers, no heap, no stdio; only <stdint.h>,
 * <stddef.h> and <string.h>. Safe with a 16-bit int (AVR). The Python twin is
 * firmware_bridge/protocol.py; both must agree byte for byte with
 * ../test_vectors.json. See firmware_bridge/PROTOCOL.md for the wire format.
 *
 * A frame on the wire is COBS(type | seq | body | crc_hi | crc_lo) 0x00, where
 * crc is CRC-16/CCITT-FALSE of type, seq and body.
 */
#ifndef FL_PROTOCOL_H
#define FL_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FL_PROTOCOL_VERSION 1u

#define FL_MAX_BODY 60u                            /* bytes of body after type and seq */
#define FL_MAX_NAME 32u                            /* bytes of a HELLO name */
#define FL_MAX_FRAME (2u + FL_MAX_BODY + 2u)       /* type, seq, body, crc: 64 */
#define FL_MAX_ENCODED (FL_MAX_FRAME + 1u)         /* after COBS, without the delimiter: 65 */
#define FL_MAX_WIRE (FL_MAX_ENCODED + 1u)          /* with the 0x00 delimiter: 66 */

/* Message types. */
#define FL_HELLO 0x01u
#define FL_PING 0x02u
#define FL_ACK 0x03u
#define FL_NACK 0x04u
#define FL_PLAY 0x10u
#define FL_STOP 0x11u

/* Results: FL_OK, or the error code a NACK carries. */
#define FL_OK 0
#define FL_ERR_BAD_CRC 0x01
#define FL_ERR_MALFORMED 0x02
#define FL_ERR_UNSUPPORTED 0x03
#define FL_ERR_BAD_VALUE 0x04
#define FL_ERR_BUSY 0x05
#define FL_ERR_VERSION 0x06

/* fl_decoder_push: no frame ended with this byte. */
#define FL_PENDING (-1)

/* One message. Which fields mean something depends on `type`; `body` always
 * holds the body as received (for a type this side does not know, it is all
 * there is). */
typedef struct {
    uint8_t type;
    uint8_t seq;
    uint8_t seq_known;                 /* after a decode error: seq was read (it may be damaged) */
    uint8_t version;                   /* HELLO */
    uint8_t name_len;                  /* HELLO: bytes in name */
    char name[FL_MAX_NAME + 1u];       /* HELLO: the name, NUL-terminated */
    uint8_t error;                     /* NACK */
    uint32_t pattern;                  /* PLAY: bit i switches the motor on in 50 ms slot i */
    uint8_t repeat;                    /* PLAY: 1-255 periods of 1.6 s */
    uint8_t intensity;                 /* PLAY: PWM duty 0-255 */
    uint8_t body_len;
    uint8_t body[FL_MAX_BODY];
} fl_message;

/* Reassembles frames from a byte stream cut anywhere; see fl_decoder_push. */
typedef struct {
    uint8_t buf[FL_MAX_ENCODED];
    uint8_t len;
    uint8_t overflow;                  /* the current run is longer than any frame */
} fl_decoder;

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. */
uint16_t fl_crc16(const uint8_t *data, size_t len);

/* COBS-encode `len` bytes into `dst` (no delimiter added). Returns the encoded
 * length, or 0 when it does not fit in `cap` bytes. A message ending with a
 * full 254-byte run gets no extra empty block. */
size_t fl_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

/* Inverse of fl_cobs_encode. FL_OK with *out_len set, or FL_ERR_MALFORMED
 * (a zero byte, a block running past the end, or more than `cap` bytes). */
int fl_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

/* Frame raw fields of any type: writes COBS(type, seq, body, crc) and the
 * 0x00 delimiter to `out`. Returns the bytes written, or 0 when the body is
 * longer than FL_MAX_BODY or `out` is too small (FL_MAX_WIRE always fits). */
size_t fl_encode_payload(uint8_t type, uint8_t seq, const uint8_t *body, size_t body_len,
                         uint8_t *out, size_t cap);

/* Frame `m` by its type (for an unknown type: its `body`). Returns the bytes
 * written with the delimiter, or 0 for fields out of range (PLAY repeat 0, a
 * name longer than FL_MAX_NAME) or a too small `out`. */
size_t fl_encode(const fl_message *m, uint8_t *out, size_t cap);

/* Decode one frame: the COBS bytes between two delimiters. Returns FL_OK, or
 * FL_ERR_MALFORMED (COBS, shorter than 4 or longer than FL_MAX_ENCODED bytes,
 * body too short for its type), FL_ERR_BAD_CRC, FL_ERR_BAD_VALUE (PLAY repeat
 * 0). A frame of an unknown type decodes (FL_OK); see fl_known_type. Bytes
 * after the fields a type has are ignored (newer peers may append fields). */
int fl_decode_frame(const uint8_t *encoded, size_t len, fl_message *m);

/* Whether `type` is a message type of this protocol version. */
int fl_known_type(uint8_t type);

void fl_decoder_init(fl_decoder *d);

/* Feed one received byte. Returns FL_PENDING while no frame has ended; at a
 * delimiter, FL_OK with the message in *m, or an error code (a bad frame:
 * m->seq_known says whether m->seq was read). Empty frames are skipped, and a
 * run longer than FL_MAX_ENCODED is dropped up to the next 0x00 and reported
 * as FL_ERR_MALFORMED. */
int fl_decoder_push(fl_decoder *d, uint8_t byte, fl_message *m);

#ifdef __cplusplus
}
#endif

#endif /* FL_PROTOCOL_H */
