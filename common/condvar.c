#include "condvar.h"

int
condvar_init(struct condvar *c)
{
	pthread_condattr_t ca;
	int r;

	if ((r = pthread_condattr_init(&ca)) != 0)
		return r;
	c->clock = CLOCK_MONOTONIC;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0)
		c->clock = CLOCK_REALTIME;
	r = pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	return r;
}

void
condvar_destroy(struct condvar *c)
{
	pthread_cond_destroy(&c->cond);
}

void
condvar_wait_ms(struct condvar *c, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	clock_gettime(c->clock, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->cond, mu, &ts);
}

void
condvar_signal(struct condvar *c)
{
	pthread_cond_signal(&c->cond);
}

void
condvar_broadcast(struct condvar *c)
{
	pthread_cond_broadcast(&c->cond);
}
