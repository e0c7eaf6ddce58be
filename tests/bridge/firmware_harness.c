/*
 * Host-side harness for the wearable firmware's portable C code.
 *
 * Reads one command a line on stdin, writes one answer a line on stdout, so a
 * test can run thousands of checks in one process (and under sanitizers).
 * Hex strings may be empty ("-").
 *
 *   crc HEX                         -> crc=XXXX
 *   cobs_encode HEX                 -> HEX | err
 *   cobs_decode HEX                 -> HEX | err=N
 *   decode HEX                      -> a message line | bad=N seq=S|-
 *   encode TYPE SEQ ...             -> HEX (wire bytes, by fl_encode) | err
 *       HELLO: VERSION NAMEHEX   NACK: ERROR   PLAY: PATTERN REPEAT INTENSITY
 *       PING, ACK, STOP: nothing   other types: BODYHEX
 *   payload TYPE SEQ BODYHEX        -> HEX (by fl_encode_payload) | err
 *   reset                           -> ok (the decoder starts over)
 *   feed HEX                        -> every frame ended by these bytes, "; " between | -
 *   device_init NAMEHEX             -> HEX (the boot HELLO)
 *   device MS HEX                   -> HEX: every reply to these bytes, concatenated
 *   motor MS                        -> duty=N playing=0|1
 *   state                           -> pattern=P repeat=R intensity=I (the last PLAY's; 0 after STOP)
 *
 * A message line: "msg type=T seq=S" then, by type, " version=V name=HEX",
 * " error=E", " pattern=P repeat=R intensity=I", or for an unknown type " body=HEX".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_device.h"
#include "fl_protocol.h"

#define LINE_MAX 20000
#define DATA_MAX (LINE_MAX / 2)

static char line[LINE_MAX];
static uint8_t data[DATA_MAX];
static char device_name[FL_MAX_NAME + 1];

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parse a hex token into data; returns its length, or -1. */
static long parse_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n, i;
    if (hex == NULL) return -1;
    if (strcmp(hex, "-") == 0) return 0;
    n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap) return -1;
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    return (long)(n / 2);
}

static void print_hex(const uint8_t *bytes, size_t len)
{
    size_t i;
    if (len == 0) fputs("-", stdout);
    for (i = 0; i < len; i++) printf("%02x", bytes[i]);
}

static void print_message(const fl_message *m)
{
    printf("msg type=%u seq=%u", m->type, m->seq);
    switch (m->type) {
    case FL_HELLO:
        printf(" version=%u name=", m->version);
        print_hex((const uint8_t *)m->name, m->name_len);
        break;
    case FL_NACK:
        printf(" error=%u", m->error);
        break;
    case FL_PLAY:
        printf(" pattern=%lu repeat=%u intensity=%u", (unsigned long)m->pattern, m->repeat, m->intensity);
        break;
    default:
        if (!fl_known_type(m->type)) {
            fputs(" body=", stdout);
            print_hex(m->body, m->body_len);
        }
        break;
    }
}

static void print_result(int status, const fl_message *m)
{
    if (status == FL_OK) {
        print_message(m);
    } else if (m->seq_known) {
        printf("bad=%d seq=%u", status, m->seq);
    } else {
        printf("bad=%d seq=-", status);
    }
}

/* A hex argument into len bytes of dst, or a "badhex" answer and the next
 * line (a plain block, so that `continue` reaches the command loop). */
#define HEX_ARG(dst, cap)                            \
    {                                                \
        len = parse_hex(token(&rest), (dst), (cap)); \
        if (len < 0) {                               \
            puts("badhex");                          \
            continue;                                \
        }                                            \
    }

static char *token(char **rest)
{
    char *t = strtok(*rest, " \t\r\n");
    *rest = NULL;
    return t;
}

static unsigned long number(char **rest)
{
    char *t = token(rest);
    return t == NULL ? 0ul : strtoul(t, NULL, 0);
}

int main(void)
{
    fl_decoder decoder;
    fl_device device;
    fl_message m;
    uint8_t out[FL_MAX_WIRE * 4];
    uint8_t big[DATA_MAX + 2];

    fl_decoder_init(&decoder);
    fl_device_init(&device, "");
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *rest = line;
        char *cmd = token(&rest);
        long len = 0;
        if (cmd == NULL) continue;
        if (strcmp(cmd, "crc") == 0) {
            HEX_ARG(data, sizeof data);
            printf("crc=%04x", fl_crc16(data, (size_t)len));
        } else if (strcmp(cmd, "cobs_encode") == 0) {
            size_t n;
            HEX_ARG(data, sizeof data);
            n = fl_cobs_encode(data, (size_t)len, big, sizeof big);
            if (n == 0) fputs("err", stdout); else print_hex(big, n);
        } else if (strcmp(cmd, "cobs_decode") == 0) {
            size_t n = 0;
            int status;
            HEX_ARG(data, sizeof data);
            status = fl_cobs_decode(data, (size_t)len, big, sizeof big, &n);
            if (status != FL_OK) printf("err=%d", status); else print_hex(big, n);
        } else if (strcmp(cmd, "decode") == 0) {
            int status;
            HEX_ARG(data, sizeof data);
            status = fl_decode_frame(data, (size_t)len, &m);
            print_result(status, &m);
        } else if (strcmp(cmd, "encode") == 0) {
            size_t n;
            memset(&m, 0, sizeof m);
            m.type = (uint8_t)number(&rest);
            m.seq = (uint8_t)number(&rest);
            if (m.type == FL_HELLO) {
                m.version = (uint8_t)number(&rest);
                HEX_ARG((uint8_t *)m.name, sizeof m.name); /* 33 bytes: one too many */
                m.name_len = (uint8_t)len;
                n = fl_encode(&m, out, sizeof out);
            } else if (m.type == FL_NACK) {
                m.error = (uint8_t)number(&rest);
                n = fl_encode(&m, out, sizeof out);
            } else if (m.type == FL_PLAY) {
                m.pattern = (uint32_t)number(&rest);
                m.repeat = (uint8_t)number(&rest);
                m.intensity = (uint8_t)number(&rest);
                n = fl_encode(&m, out, sizeof out);
            } else if (fl_known_type(m.type)) {
                n = fl_encode(&m, out, sizeof out);
            } else {
                HEX_ARG(m.body, sizeof m.body);
                m.body_len = (uint8_t)len;
                n = fl_encode(&m, out, sizeof out);
            }
            if (n == 0) fputs("err", stdout); else print_hex(out, n);
        } else if (strcmp(cmd, "payload") == 0) {
            size_t n;
            uint8_t type = (uint8_t)number(&rest);
            uint8_t seq = (uint8_t)number(&rest);
            HEX_ARG(data, sizeof data);
            n = fl_encode_payload(type, seq, data, (size_t)len, out, sizeof out);
            if (n == 0) fputs("err", stdout); else print_hex(out, n);
        } else if (strcmp(cmd, "reset") == 0) {
            fl_decoder_init(&decoder);
            fputs("ok", stdout);
        } else if (strcmp(cmd, "feed") == 0) {
            long i;
            int frames = 0;
            HEX_ARG(data, sizeof data);
            for (i = 0; i < len; i++) {
                int status = fl_decoder_push(&decoder, data[i], &m);
                if (status != FL_PENDING) {
                    if (frames++ > 0) fputs("; ", stdout);
                    print_result(status, &m);
                }
            }
            if (frames == 0) fputs("-", stdout);
        } else if (strcmp(cmd, "device_init") == 0) {
            size_t n;
            HEX_ARG((uint8_t *)device_name, FL_MAX_NAME);
            device_name[len] = '\0';
            fl_device_init(&device, device_name);
            n = fl_device_hello(&device, out, sizeof out);
            print_hex(out, n);
        } else if (strcmp(cmd, "device") == 0) {
            uint32_t now = (uint32_t)number(&rest);
            size_t total = 0;
            long i;
            HEX_ARG(data, sizeof data);
            for (i = 0; i < len; i++) {
                uint8_t reply[FL_MAX_WIRE];
                size_t n = fl_device_receive(&device, data[i], now, reply, sizeof reply);
                if (total + n > sizeof big) break;
                memcpy(big + total, reply, n);
                total += n;
            }
            print_hex(big, total);
        } else if (strcmp(cmd, "motor") == 0) {
            uint32_t now = (uint32_t)number(&rest);
            unsigned duty = fl_device_motor(&device, now);
            printf("duty=%u playing=%u", duty, device.playing);
        } else if (strcmp(cmd, "state") == 0) {
            printf("pattern=%lu repeat=%u intensity=%u", (unsigned long)device.pattern, device.repeat,
                   device.intensity);
        } else {
            printf("unknown command %s", cmd);
        }
        putchar('\n');
    }
    return 0;
}
