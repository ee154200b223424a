/*
 * Hexadecimal digits both ways: a digit's value (the procfs, address, URL
 * and history-query parsers) and a value's lower-case digit (JSON escapes,
 * reverse-DNS names).  Inline, so they are free on hot paths.
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

/* The lower-case digit for v's low four bits. */
static inline char
hex_digit(unsigned v)
{
	return "0123456789abcdef"[v & 15u];
}

#endif
