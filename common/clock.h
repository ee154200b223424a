/*
 * Milliseconds and microseconds from clock_gettime: the monotonic clock
 * for deadlines and costs, the wall clock for times shown to people.
 * winpthreads provides clock_gettime on Windows, so one file serves both.
 */
#ifndef PROCNET_CLOCK_H
#define PROCNET_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);
/* Unix time in milliseconds. */
int64_t clock_real_ms(void);
/* CPU time of the calling thread in microseconds (0 when unknown). */
int64_t clock_thread_cpu_us(void);

#endif
