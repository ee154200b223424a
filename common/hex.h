/*
 * One hexadecimal digit's value: the procfs, address and URL parsers all
 * need it, and a table-free inline keeps it free for callers on hot paths.
 */
#ifndef PROCNET_HEX_H
#define PROCNET_HEX_H

/* 0..15 for [0-9a-fA-F], else -1. */
static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
