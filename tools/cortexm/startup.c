// Bare-metal start for QEMU's mps2-an386 (a Cortex-M4F): the vector table QEMU reads at address 0, and a
// reset handler that turns the FPU on (the kernels are built for -mfloat-abi=hard), zeroes .bss, opens
// newlib's semihosting handles (stdio and files go to the host), runs the C++ constructors and main().
// No newlib crt0: its semihosting heap query does not describe this board's memory, and the linker
// script (mps2-an386.ld) already does.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __bss_start__, __bss_end__, __stack;
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);
extern int main(void);

// What crti/crtbegin would give (linked with -nostartfiles): no .init/.fini code, one static image.
void* __dso_handle = 0;
void _init(void) {}
void _fini(void) {}

void Reset_Handler(void) {
  // CPACR: full access to CP10 and CP11 (the FPU) before any floating-point instruction runs.
  *(volatile uint32_t*)0xE000ED88 |= 0xFu << 20;
  __asm volatile("dsb\n isb");
  memset(&__bss_start__, 0, (size_t)((char*)&__bss_end__ - (char*)&__bss_start__));
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

// Any fault ends the run (QEMU would otherwise spin forever): semihosting SYS_EXIT with a failure reason.
void Fault_Handler(void) {
  register uint32_t op __asm("r0") = 0x18;       // SYS_EXIT
  register uint32_t reason __asm("r1") = 0x20023; // ADP_Stopped_RunTimeErrorUnknown
  __asm volatile("bkpt 0xab" : : "r"(op), "r"(reason));
  for (;;) {}
}

__attribute__((section(".vectors"), used)) static const void* const vectors[16] = {
    &__stack, (void*)Reset_Handler, (void*)Fault_Handler, (void*)Fault_Handler, (void*)Fault_Handler,
    (void*)Fault_Handler, (void*)Fault_Handler, 0, 0, 0, 0, (void*)Fault_Handler, (void*)Fault_Handler, 0,
    (void*)Fault_Handler, (void*)Fault_Handler};
