/*
 * Hosts file text to a table sorted by address.  Only the first name of
 * the first line for an address counts (what gethostbyaddr answers), and
 * only names made of host name characters, so the table never holds
 * something the UI should not show.
 */
#include "hostsfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct host_entry {
	struct snap_addr addr;
	char *name;
};

struct hostsfile {
	size_t n;
	struct host_entry *e;	/* sorted by addr, unique */
	char *names;		/* every name, NUL-separated */
};

static int
addr_cmp(const struct snap_addr *a, const struct snap_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16);
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct host_entry *a = x, *b = y;
	int c = addr_cmp(&a->addr, &b->addr);

	/* Equal addresses keep file order: the names area grows with the
	 * file, so the earlier line has the lower pointer. */
	if (c != 0)
		return c;
	return a->name < b->name ? -1 : a->name > b->name;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next token of [*p, end) on this line, or false at its end. */
static bool
token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p;

	while (s < end && blank(*s))
		s++;
	if (s == end || *s == '#')
		return false;
	*tok = s;
	while (s < end && !blank(*s) && *s != '#')
		s++;
	*len = (size_t)(s - *tok);
	*p = s;
	return true;
}

static bool
name_ok(const char *s, size_t len)
{
	if (len == 0 || len > HOSTSFILE_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return false;
	}
	return true;
}

int
hostsfile_parse(const char *text, size_t len, struct hostsfile **out)
{
	struct hostsfile *h;
	const char *p = text, *end;
	size_t cap = 0, used = 0, w;

	if (len > HOSTSFILE_MAX_SIZE)
		len = HOSTSFILE_MAX_SIZE;
	end = text + len;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	/* Names are never longer than the text they come from. */
	if ((h->names = malloc(len + 1)) == NULL)
		goto nomem;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *a, *n;
		size_t alen, nlen;
		char abuf[64];
		struct snap_addr addr;

		if (eol == NULL)
			eol = end;
		if (token(&p, eol, &a, &alen) && token(&p, eol, &n, &nlen) &&
		    alen < sizeof(abuf) && name_ok(n, nlen) &&
		    h->n < HOSTSFILE_MAX_ENTRIES) {
			memcpy(abuf, a, alen);
			abuf[alen] = '\0';
			/* "fe80::1%eth0": the zone does not name an address */
			if (strchr(abuf, '%') == NULL &&
			    snap_addr_parse(abuf, &addr) == 0) {
				if (h->n == cap) {
					struct host_entry *ne;

					cap = cap ? cap * 2 : 64;
					if ((ne = realloc(h->e, cap *
					    sizeof(*ne))) == NULL)
						goto nomem;
					h->e = ne;
				}
				h->e[h->n].addr = addr;
				h->e[h->n].name = h->names + used;
				for (size_t i = 0; i < nlen; i++)
					h->names[used++] = (char)(n[i] >= 'A' &&
					    n[i] <= 'Z' ? n[i] + 32 : n[i]);
				h->names[used++] = '\0';
				h->n++;
			}
		}
		p = eol + 1;
	}
	if (h->n > 0)
		qsort(h->e, h->n, sizeof(*h->e), entry_cmp);
	/* Keep the first line of each address. */
	for (size_t r = w = 0; r < h->n; r++)
		if (w == 0 || addr_cmp(&h->e[w - 1].addr, &h->e[r].addr) != 0)
			h->e[w++] = h->e[r];
	h->n = h->n > 0 ? w : 0;
	*out = h;
	return 0;
nomem:
	hostsfile_free(h);
	return -ENOMEM;
}

void
hostsfile_free(struct hostsfile *h)
{
	if (h == NULL)
		return;
	free(h->e);
	free(h->names);
	free(h);
}

size_t
hostsfile_count(const struct hostsfile *h)
{
	return h != NULL ? h->n : 0;
}

const char *
hostsfile_lookup(const struct hostsfile *h, const struct snap_addr *a)
{
	size_t lo = 0, hi;

	if (h == NULL)
		return NULL;
	hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&h->e[mid].addr, a);

		if (c == 0)
			return h->e[mid].name;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
