/* The wearable's side of the protocol (see fl_device.h). */
#include "fl_device.h"

#include <string.h>

void fl_device_init(fl_device *dev, const char *name)
{
    memset(dev, 0, sizeof *dev);
    fl_decoder_init(&dev->decoder);
    dev->name = name;
}

static size_t hello(const fl_device *dev, uint8_t seq, uint8_t *out, size_t cap)
{
    fl_message m;
    size_t len = strlen(dev->name);
    memset(&m, 0, sizeof m);
    m.type = FL_HELLO;
    m.seq = seq;
    m.version = FL_PROTOCOL_VERSION;
    m.name_len = (uint8_t)(len > FL_MAX_NAME ? FL_MAX_NAME : len);
    memcpy(m.name, dev->name, m.name_len);
    return fl_encode(&m, out, cap);
}

static size_t ack(uint8_t seq, uint8_t *out, size_t cap)
{
    return fl_encode_payload(FL_ACK, seq, NULL, 0, out, cap);
}

static size_t nack(uint8_t seq, int error, uint8_t *out, size_t cap)
{
    uint8_t code = (uint8_t)error;
    return fl_encode_payload(FL_NACK, seq, &code, 1, out, cap);
}

size_t fl_device_hello(const fl_device *dev, uint8_t *out, size_t cap)
{
    return hello(dev, 0, out, cap);
}

static size_t execute(fl_device *dev, const fl_message *m, uint32_t now_ms, uint8_t *out, size_t cap)
{
    switch (m->type) {
    case FL_HELLO:
        dev->has_last = 0;
        if (m->version < 1u) {
            return nack(m->seq, FL_ERR_VERSION, out, cap);
        }
        return hello(dev, m->seq, out, cap);
    case FL_ACK:
    case FL_NACK:
        return 0; /* the device never asks anything: answers are stray */
    case FL_PLAY:
    case FL_STOP:
    case FL_PING:
        break;
    default:
        return nack(m->seq, FL_ERR_UNSUPPORTED, out, cap);
    }
    if (dev->has_last && dev->last_type == m->type && dev->last_seq == m->seq) {
        return ack(m->seq, out, cap); /* a retransmission: do not execute twice */
    }
    if (m->type == FL_PLAY) {
        dev->pattern = m->pattern;
        dev->repeat = m->repeat;
        dev->intensity = m->intensity;
        dev->started_ms = now_ms;
        dev->playing = m->pattern != 0u;
    } else if (m->type == FL_STOP) {
        dev->playing = 0;
        dev->pattern = 0;
        dev->repeat = 0;
        dev->intensity = 0;
    }
    dev->has_last = 1;
    dev->last_type = m->type;
    dev->last_seq = m->seq;
    return ack(m->seq, out, cap);
}

size_t fl_device_receive(fl_device *dev, uint8_t byte, uint32_t now_ms, uint8_t *out, size_t cap)
{
    int status = fl_decoder_push(&dev->decoder, byte, &dev->message);
    if (status == FL_PENDING) {
        return 0;
    }
    if (status != FL_OK) {
        return nack(dev->message.seq_known ? dev->message.seq : 0u, status, out, cap);
    }
    return execute(dev, &dev->message, now_ms, out, cap);
}

uint8_t fl_device_motor(fl_device *dev, uint32_t now_ms)
{
    uint32_t slot;
    if (!dev->playing) {
        return 0;
    }
    slot = (uint32_t)(now_ms - dev->started_ms) / FL_SLOT_MS;
    if (slot >= (uint32_t)dev->repeat * FL_PATTERN_SLOTS) {
        dev->playing = 0;
        return 0;
    }
    return ((dev->pattern >> (slot % FL_PATTERN_SLOTS)) & 1u) ? dev->intensity : 0u;
}
