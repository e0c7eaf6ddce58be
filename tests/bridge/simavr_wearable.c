/*
 * Runs the wearable firmware, built for an Arduino Uno (ATmega328P, 16 MHz), in
 * the simavr emulator: UART0 on a pseudo-terminal, the motor pin's PWM duty
 * written to a log. For tests (test_firmware_on_avr.py).
 *
 *   simavr_wearable FIRMWARE.elf MOTOR_LOG
 *
 * Prints "pty /dev/pts/N" once the UART is on a pty, then runs until killed.
 * MOTOR_LOG gets a line "MS DUTY" each time the duty on pin 9 changes; MS is
 * the emulated time in milliseconds (cycles / 16000).
 */
#include <stdio.h>
#include <string.h>

#include <sim_avr.h>
#include <sim_elf.h>
#include <parts/uart_pty.h>

/* ATmega328P data-space addresses */
#define TCCR1A 0x80
#define COM1A1 0x80
#define OCR1AL 0x88
#define PORTB 0x25
#define PB1 0x02 /* Arduino pin 9, OC1A */

static uart_pty_t uart;

int main(int argc, char **argv)
{
    elf_firmware_t firmware;
    avr_t *avr;
    FILE *motor;
    int last = -1;

    memset(&firmware, 0, sizeof firmware);
    if (argc != 3 || elf_read_firmware(argv[1], &firmware) != 0) {
        fprintf(stderr, "usage: simavr_wearable FIRMWARE.elf MOTOR_LOG\n");
        return 2;
    }
    strcpy(firmware.mmcu, "atmega328p");
    firmware.frequency = 16000000;
    avr = avr_make_mcu_by_name(firmware.mmcu);
    if (avr == NULL || (motor = fopen(argv[2], "w")) == NULL) {
        return 2;
    }
    avr_init(avr);
    avr_load_firmware(avr, &firmware);
    uart_pty_init(avr, &uart);
    uart_pty_connect(&uart, '0');
    printf("pty %s\n", uart.pty.slavename);
    fflush(stdout);
    for (;;) {
        int state = avr_run(avr);
        int duty;
        if (state == cpu_Done || state == cpu_Crashed) {
            break;
        }
        /* analogWrite(9, d) connects OC1A with OCR1A = d; 0 and 255 are digitalWrite. */
        if (avr->data[TCCR1A] & COM1A1) {
            duty = avr->data[OCR1AL];
        } else {
            duty = (avr->data[PORTB] & PB1) ? 255 : 0;
        }
        if (duty != last) {
            fprintf(motor, "%.3f %d\n", (double)avr->cycle / 16000.0, duty);
            fflush(motor);
            last = duty;
        }
    }
    uart_pty_stop(&uart);
    return 1;
}
