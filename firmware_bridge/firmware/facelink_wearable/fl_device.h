/*
 * The wearable's side of the protocol: answers every frame, plays patterns.
 *
 * Plain portable C99 like fl_protocol.h: the sketch feeds it received bytes and
 * the time in milliseconds, writes back the reply bytes it returns, and sets
 * the motor's PWM duty to fl_device_motor(). It behaves like the host-side
 * simulator (firmware_bridge/simulator.py):
 *
 * - HELLO: answered with the device's HELLO (same seq); version 0: NACK version.
 *   It also forgets the last command (duplicate detection starts over).
 * - PLAY / STOP / PING: executed and acknowledged, unless the type and seq are
 *   those of the command executed last: then acknowledged only (the earlier
 *   ACK was lost and the host sent the same frame again).
 * - unknown type: NACK unsupported; a bad frame: NACK with its error code and
 *   seq (0 when unreadable); ACK or NACK from the host: no answer.
 */
#ifndef FL_DEVICE_H
#define FL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "fl_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FL_SLOT_MS 50u       /* one bit of a pattern */
#define FL_PATTERN_SLOTS 32u /* a period: 32 slots, 1.6 s */

typedef struct {
    fl_decoder decoder;
    fl_message message;      /* the frame being handled */
    const char *name;        /* sent in HELLO; at most FL_MAX_NAME bytes are used */
    uint8_t has_last;        /* last_type / last_seq hold the command executed last */
    uint8_t last_type;
    uint8_t last_seq;
    uint8_t playing;         /* the pattern below is running */
    uint32_t pattern;        /* the last PLAY's fields (0 after STOP) */
    uint8_t repeat;
    uint8_t intensity;
    uint32_t started_ms;     /* when it started */
} fl_device;

/* `name` must stay valid as long as the device (a string literal). */
void fl_device_init(fl_device *dev, const char *name);

/* The HELLO the device sends when it boots (seq 0). Returns the bytes written
 * to `out` (give it FL_MAX_WIRE bytes). */
size_t fl_device_hello(const fl_device *dev, uint8_t *out, size_t cap);

/* Handle one received byte at `now_ms`. When it ends a frame that needs an
 * answer, writes the answer's bytes to `out` (give it FL_MAX_WIRE bytes) and
 * returns their count; else 0. */
size_t fl_device_receive(fl_device *dev, uint8_t byte, uint32_t now_ms, uint8_t *out, size_t cap);

/* The motor's PWM duty at `now_ms`: the intensity during an "on" slot of the
 * playing pattern, else 0. Timing is safe across the 32-bit millisecond wrap. */
uint8_t fl_device_motor(fl_device *dev, uint32_t now_ms);

#ifdef __cplusplus
}
#endif

#endif /* FL_DEVICE_H */
