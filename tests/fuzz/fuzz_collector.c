/*
 * libFuzzer target for the collector's parsers of kernel output: the
 * sock_diag reply walker (as TCP and UDP dumps, whole and split in two
 * recv()s) and every /proc parser.  Each parser gets an exact-size copy so
 * ASan sees any read past the end, and its results are checked for what
 * must hold whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "sockdiag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check_socket(void *arg, const struct snap_socket *s)
{
	size_t *n = arg;

	if ((s->family != 4 && s->family != 6) ||
	    s->local.family != s->family || s->state >= SNAP_STATE_MAX ||
	    s->proto >= SNAP_PROTO_MAX || s->pid != -1)
		abort();
	(*n)++;
	return 0;
}

static void
diag(const uint8_t *p, size_t len, int proto, size_t split)
{
	struct sockdiag_parser ps;
	size_t n = 0;
	int rc;

	sockdiag_parser_init(&ps, proto, 0);
	rc = sockdiag_parse(&ps, p, split, check_socket, &n);
	if (rc == 0)
		rc = sockdiag_parse(&ps, p + split, len - split, check_socket,
		    &n);
	if (n != ps.n_sockets || (rc == 1 && !ps.done) || rc > 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	struct procfs_stat st;
	uid_t uid;
	int64_t bt;
	uint64_t ino;
	size_t n = 0, out, at;
	uint32_t argc;
	int fam;

	if (copy == NULL)
		return 0;
	diag(data, size, SNAP_PROTO_TCP, size);
	diag(data, size, SNAP_PROTO_UDP, size / 2);

	memcpy(copy, data, size);
	if (procfs_parse_stat(copy, size, &st) == 0 &&
	    strnlen(st.comm, sizeof(st.comm)) == sizeof(st.comm))
		abort();
	(void)procfs_parse_status_uid(copy, size, &uid);
	(void)procfs_parse_btime(copy, size, &bt);
	(void)procfs_parse_socket_link(copy, size, &ino);
	for (fam = 4; fam <= 6; fam += 2) {
		(void)procfs_parse_net(copy, size, SNAP_PROTO_TCP, fam,
		    check_socket, &n);
		(void)procfs_parse_net(copy, size, SNAP_PROTO_UDP, fam,
		    check_socket, &n);
	}
	/* the arguments, each NUL-ended, fill exactly the trimmed length */
	argc = procfs_cmdline_args(copy, size, &out);
	if (out > size || copy[out] != '\0' || (out > 0 && copy[out - 1] == '\0'))
		abort();
	for (at = 0; argc > 0; argc--)
		at += strlen(copy + at) + 1;
	if (at != (out > 0 ? out + 1 : 0))
		abort();
	free(copy);
	return 0;
}
