/* FaceLink wearable serial protocol: framing and message codecs (see fl_protocol.h). */
#include "fl_protocol.h"

#include <string.h>

uint16_t fl_crc16(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFFu;
    size_t i;
    for (i = 0; i < len; i++) {
        uint8_t bit;
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (bit = 0; bit < 8u; bit++) {
            if (crc & 0x8000u) {
                crc = (uint16_t)((uint16_t)(crc << 1) ^ 0x1021u);
            } else {
                crc = (uint16_t)(crc << 1);
            }
        }
    }
    return crc;
}

size_t fl_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    size_t out = 1;      /* next free byte; dst[0] is the first block's code */
    size_t code_at = 0;  /* where the current block's code goes */
    uint8_t code = 1;    /* current block length + 1 */
    size_t i;
    if (cap == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (src[i] == 0) {
            if (out >= cap) {
                return 0;
            }
            dst[code_at] = code;
            code_at = out++;
            code = 1;
            continue;
        }
        if (out >= cap) {
            return 0;
        }
        dst[out++] = src[i];
        code++;
        if (code == 0xFFu && i + 1u < len) {
            /* A full 254-byte block; another block follows only if data does. */
            if (out >= cap) {
                return 0;
            }
            dst[code_at] = code;
            code_at = out++;
            code = 1;
        }
    }
    dst[code_at] = code;
    return out;
}

int fl_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t i = 0;
    size_t out = 0;
    while (i < len) {
        uint8_t code = src[i];
        size_t end = i + code;
        size_t j;
        if (code == 0 || end > len) {
            return FL_ERR_MALFORMED;
        }
        for (j = i + 1u; j < end; j++) {
            if (src[j] == 0 || out >= cap) {
                return FL_ERR_MALFORMED;
            }
            dst[out++] = src[j];
        }
        i = end;
        if (code != 0xFFu && i < len) {
            if (out >= cap) {
                return FL_ERR_MALFORMED;
            }
            dst[out++] = 0;
        }
    }
    *out_len = out;
    return FL_OK;
}

size_t fl_encode_payload(uint8_t type, uint8_t seq, const uint8_t *body, size_t body_len,
                         uint8_t *out, size_t cap)
{
    uint8_t raw[FL_MAX_FRAME];
    uint16_t crc;
    size_t n;
    if (body_len > FL_MAX_BODY) {
        return 0;
    }
    raw[0] = type;
    raw[1] = seq;
    if (body_len > 0u) {
        memcpy(raw + 2, body, body_len);
    }
    crc = fl_crc16(raw, 2u + body_len);
    raw[2u + body_len] = (uint8_t)(crc >> 8);
    raw[3u + body_len] = (uint8_t)(crc & 0xFFu);
    n = fl_cobs_encode(raw, 4u + body_len, out, cap);
    if (n == 0 || n >= cap) {
        return 0;
    }
    out[n] = 0; /* the delimiter */
    return n + 1u;
}

size_t fl_encode(const fl_message *m, uint8_t *out, size_t cap)
{
    uint8_t body[FL_MAX_BODY];
    size_t len = 0;
    switch (m->type) {
    case FL_HELLO:
        if (m->name_len > FL_MAX_NAME) {
            return 0;
        }
        body[0] = m->version;
        memcpy(body + 1, m->name, m->name_len);
        len = 1u + m->name_len;
        break;
    case FL_NACK:
        body[0] = m->error;
        len = 1;
        break;
    case FL_PLAY:
        if (m->repeat == 0) {
            return 0;
        }
        body[0] = (uint8_t)(m->pattern & 0xFFu);
        body[1] = (uint8_t)((m->pattern >> 8) & 0xFFu);
        body[2] = (uint8_t)((m->pattern >> 16) & 0xFFu);
        body[3] = (uint8_t)((m->pattern >> 24) & 0xFFu);
        body[4] = m->repeat;
        body[5] = m->intensity;
        len = 6;
        break;
    case FL_PING:
    case FL_ACK:
    case FL_STOP:
        break;
    default:
        if (m->body_len > FL_MAX_BODY) {
            return 0;
        }
        memcpy(body, m->body, m->body_len);
        len = m->body_len;
        break;
    }
    return fl_encode_payload(m->type, m->seq, body, len, out, cap);
}

int fl_known_type(uint8_t type)
{
    switch (type) {
    case FL_HELLO:
    case FL_PING:
    case FL_ACK:
    case FL_NACK:
    case FL_PLAY:
    case FL_STOP:
        return 1;
    default:
        return 0;
    }
}

int fl_decode_frame(const uint8_t *encoded, size_t len, fl_message *m)
{
    uint8_t raw[FL_MAX_FRAME];
    size_t n = 0;
    size_t body_len;
    const uint8_t *body;
    uint16_t sent;
    memset(m, 0, sizeof *m);
    if (len > FL_MAX_ENCODED) {
        return FL_ERR_MALFORMED;
    }
    if (fl_cobs_decode(encoded, len, raw, sizeof raw, &n) != FL_OK || n < 4u) {
        return FL_ERR_MALFORMED;
    }
    m->type = raw[0];
    m->seq = raw[1];
    m->seq_known = 1;
    sent = (uint16_t)(((uint16_t)raw[n - 2u] << 8) | raw[n - 1u]);
    if (fl_crc16(raw, n - 2u) != sent) {
        return FL_ERR_BAD_CRC; /* the seq byte may be the damaged one: a hint only */
    }
    body = raw + 2;
    body_len = n - 4u;
    m->body_len = (uint8_t)body_len;
    memcpy(m->body, body, body_len);
    switch (m->type) {
    case FL_HELLO:
        if (body_len < 1u) {
            return FL_ERR_MALFORMED;
        }
        m->version = body[0];
        m->name_len = (uint8_t)(body_len - 1u > FL_MAX_NAME ? FL_MAX_NAME : body_len - 1u);
        memcpy(m->name, body + 1, m->name_len);
        m->name[m->name_len] = '\0';
        break;
    case FL_NACK:
        if (body_len < 1u) {
            return FL_ERR_MALFORMED;
        }
        m->error = body[0];
        break;
    case FL_PLAY:
        if (body_len < 6u) {
            return FL_ERR_MALFORMED;
        }
        m->pattern = (uint32_t)body[0] | ((uint32_t)body[1] << 8) | ((uint32_t)body[2] << 16) |
                     ((uint32_t)body[3] << 24);
        m->repeat = body[4];
        m->intensity = body[5];
        if (m->repeat == 0) {
            return FL_ERR_BAD_VALUE;
        }
        break;
    default:
        break; /* PING, ACK, STOP have no fields; unknown types keep their body */
    }
    return FL_OK;
}

void fl_decoder_init(fl_decoder *d)
{
    d->len = 0;
    d->overflow = 0;
}

int fl_decoder_push(fl_decoder *d, uint8_t byte, fl_message *m)
{
    int status;
    if (byte != 0) {
        if (d->overflow) {
            return FL_PENDING;
        }
        if (d->len >= FL_MAX_ENCODED) {
            d->overflow = 1; /* drop the run up to the next delimiter */
            d->len = 0;
            return FL_PENDING;
        }
        d->buf[d->len++] = byte;
        return FL_PENDING;
    }
    if (d->overflow) {
        d->overflow = 0;
        memset(m, 0, sizeof *m);
        return FL_ERR_MALFORMED;
    }
    if (d->len == 0) {
        return FL_PENDING; /* an empty frame: a sender resynchronising */
    }
    status = fl_decode_frame(d->buf, d->len, m);
    d->len = 0;
    return status;
}
