/*
 * FaceLink haptic wearable: reference firmware.
 *
 * A vibration motor on a PWM pin plays the patterns the FaceLink hub sends
 * over USB serial (115200 baud, protocol in firmware_bridge/PROTOCOL.md).
 * This sketch only glues the board to the portable protocol code: bytes from
 * Serial go to fl_device_receive(), its replies go back to Serial, and
 * fl_device_motor() sets the PWM duty.
 *
 * Wiring: MOTOR_PIN (default 9, a PWM pin on Uno/Nano/Leonardo/Pro Micro) drives
 * the gate of a logic-level N-MOSFET (or the base of an NPN transistor through
 * 1 kOhm) that switches the motor's low side; a diode across the motor (cathode
 * to +) takes the flyback. Never power the motor from the pin itself.
 *
 * Build: arduino-cli compile --fqbn arduino:avr:uno firmware_bridge/firmware/facelink_wearable
 */
#include "fl_device.h"
#include "fl_protocol.h"

#ifndef MOTOR_PIN
#define MOTOR_PIN 9
#endif

static const char DEVICE_NAME[] = "facelink-wearable 1.0";

static fl_device device;
static uint8_t reply[FL_MAX_WIRE];
static uint8_t duty = 0;

void setup() {
  pinMode(MOTOR_PIN, OUTPUT);
  analogWrite(MOTOR_PIN, 0);
  Serial.begin(115200);
  fl_device_init(&device, DEVICE_NAME);
  // The boot HELLO; a host that opens the port later asks with its own HELLO.
  Serial.write(reply, fl_device_hello(&device, reply, sizeof reply));
}

void loop() {
  while (Serial.available() > 0) {
    int c = Serial.read();
    if (c < 0) {
      break;
    }
    size_t n = fl_device_receive(&device, (uint8_t)c, millis(), reply, sizeof reply);
    if (n > 0) {
      Serial.write(reply, n);
    }
  }
  uint8_t now = fl_device_motor(&device, millis());
  if (now != duty) {
    analogWrite(MOTOR_PIN, now);
    duty = now;
  }
}
