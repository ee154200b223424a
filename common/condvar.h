/*
 * A condition variable whose timed waits run on the monotonic clock where
 * the platform allows it (else the wall clock), so a clock step can
 * neither stretch nor cut a wait.
 */
#ifndef PROCNET_CONDVAR_H
#define PROCNET_CONDVAR_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct condvar {
	pthread_cond_t cond;
	clockid_t clock;
};

int condvar_init(struct condvar *c);	/* 0 or a positive pthread error */
void condvar_destroy(struct condvar *c);
/* Waits on c with mu held for at most ms milliseconds (nothing when
 * ms <= 0); returns early when signalled or spuriously, as usual. */
void condvar_wait_ms(struct condvar *c, pthread_mutex_t *mu, int64_t ms);
void condvar_signal(struct condvar *c);
void condvar_broadcast(struct condvar *c);

#endif
