/*
 * Loads bpf/conn.bpf.c through the skeleton bpftool generated at build time
 * (conn.skel.h: the object is embedded, relocated by libbpf against the
 * running kernel's BTF; nothing is compiled at run time).
 */
#include "evbpf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "conn.skel.h"
#include "conn_event.h"

#define VMLINUX_BTF	"/sys/kernel/btf/vmlinux"
#define LOCKDOWN	"/sys/kernel/security/lockdown"

struct evbpf {
	struct conn_bpf *skel;
	struct ring_buffer *rb;
	evbpf_fn fn;
	void *arg;
	int stop_rc;		/* fn's non-zero return in this drain */
	int ncpu;
};

/* libbpf's messages: the last warning is kept for the reason of a failed
 * load; nothing is printed (library code does not log, and a refused load
 * is an expected outcome with a fallback). */
static char last_msg[256];

static int
keep_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (n > 0)
		memcpy(last_msg, line, n + 1);
	return 0;
}

/* Is the kernel locked down against reading its memory? */
static bool
locked_down(void)
{
	char buf[128];
	FILE *f = fopen(LOCKDOWN, "re");
	bool yes = false;

	if (f == NULL)
		return false;
	if (fgets(buf, sizeof(buf), f) != NULL)
		yes = strstr(buf, "[confidentiality]") != NULL;
	fclose(f);
	return yes;
}

static int
on_record(void *ctx, void *data, size_t len)
{
	struct evbpf *b = ctx;
	int rc = b->fn(b->arg, data, len);

	if (rc != 0)
		b->stop_rc = rc;
	return rc;
}

static void
explain(int rc, const char *stage, char *why, size_t whylen)
{
	if (rc == -EPERM || rc == -EACCES)
		snprintf(why, whylen, "BPF %s not permitted (%s; needs "
		    "CAP_BPF and CAP_PERFMON)%s",
		    stage, strerror(-rc), locked_down() ?
		    "; the kernel is in lockdown (confidentiality)" : "");
	else if (last_msg[0] != '\0')
		snprintf(why, whylen, "BPF %s failed: %s (libbpf: %s)", stage,
		    strerror(-rc), last_msg);
	else
		snprintf(why, whylen, "BPF %s failed: %s", stage,
		    strerror(-rc));
}

int
evbpf_open(evbpf_fn fn, void *arg, struct evbpf **out, char *why,
    size_t whylen)
{
	struct evbpf *b;
	int rc;

	why[0] = '\0';
	last_msg[0] = '\0';
	if (access(VMLINUX_BTF, R_OK) != 0) {
		rc = -errno;
		snprintf(why, whylen, "the kernel has no BTF (%s: %s)",
		    VMLINUX_BTF, strerror(-rc));
		return rc;
	}
	libbpf_set_print(keep_print);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -ENOMEM;
	b->fn = fn;
	b->arg = arg;
	if ((b->ncpu = libbpf_num_possible_cpus()) <= 0)
		b->ncpu = 1;
	if ((b->skel = conn_bpf__open()) == NULL) {
		rc = -errno;
		explain(rc, "open", why, whylen);
		goto fail;
	}
	bpf_map__set_max_entries(b->skel->maps.events, EVBPF_RING_BYTES);
	if ((rc = conn_bpf__load(b->skel)) != 0) {
		explain(rc, "load", why, whylen);
		goto fail;
	}
	if ((rc = conn_bpf__attach(b->skel)) != 0) {
		explain(rc, "attach", why, whylen);
		goto fail;
	}
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), on_record,
	    b, NULL);
	if (b->rb == NULL) {
		rc = -errno;
		explain(rc, "ring buffer", why, whylen);
		goto fail;
	}
	*out = b;
	return 0;
fail:
	evbpf_free(b);
	return rc < 0 ? rc : -EINVAL;
}

void
evbpf_free(struct evbpf *b)
{
	if (b == NULL)
		return;
	ring_buffer__free(b->rb);
	conn_bpf__destroy(b->skel);
	free(b);
}

int
evbpf_poll(struct evbpf *b)
{
	int n;

	b->stop_rc = 0;
	n = ring_buffer__consume(b->rb);
	if (b->stop_rc != 0)
		return b->stop_rc;
	return n;
}

/* The sum of one per-CPU counter. */
static uint64_t
counter(const struct evbpf *b, __u32 slot)
{
	uint64_t stack[64], *v = stack, sum = 0;
	int i;

	if ((size_t)b->ncpu > sizeof(stack) / sizeof(stack[0]) &&
	    (v = calloc((size_t)b->ncpu, sizeof(*v))) == NULL)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.counters), &slot,
	    v) == 0)
		for (i = 0; i < b->ncpu; i++)
			sum += v[i];
	if (v != stack)
		free(v);
	return sum;
}

uint64_t
evbpf_lost(const struct evbpf *b)
{
	return counter(b, PN_CNT_LOST);
}

uint64_t
evbpf_untracked(const struct evbpf *b)
{
	return counter(b, PN_CNT_NO_STORAGE);
}
