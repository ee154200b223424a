/*
 * What webd/redact.c knows about names: which option, header, key and
 * variable names hold secrets, and which programs read which options as
 * passwords.  Tables only, no state; every function looks at a bounded
 * part of its input, so the caller stays linear.
 */
#ifndef PROCNET_REDACT_NAMES_H
#define PROCNET_REDACT_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Programs whose options differ from the common reading. */
enum redact_prog {
	REDACT_PROG_NONE,	/* any other: the common reading */
	REDACT_PROG_MYSQL,	/* -pSECRET attached; -p alone prompts */
	REDACT_PROG_MYSQLADMIN,	/* the same, and "password NEW" */
	REDACT_PROG_COMPILER,	/* -p... are compiler flags (-pthread) */
	REDACT_PROG_PFLAG,	/* -p is a plain option (cp -p, mkdir -p) */
	REDACT_PROG_REDIS,	/* -a SECRET */
	REDACT_PROG_LDAP,	/* -w SECRET, -wSECRET */
	REDACT_PROG_OPENSSL,	/* -passin/-passout pass:SECRET, -k SECRET */
	REDACT_PROG_CAPITAL_P,	/* -P SECRET (zip, sqlcmd, mosquitto_pub) */
	REDACT_PROG_HTTPIE,	/* -a user:pass */
	REDACT_PROG_SSHKEYGEN,	/* -N / -P passphrases */
	REDACT_PROG_DOCTL,	/* -t TOKEN */
	REDACT_PROG_HTPASSWD,	/* -b: the password is the last argument */
	REDACT_PROG_RABBITMQCTL,	/* add_user USER PASS */
	REDACT_PROG_VAULT,	/* login TOKEN */
	REDACT_PROG_NMCLI,	/* ... password SECRET */
	REDACT_PROG_WPA_PASSPHRASE,	/* SSID PASSPHRASE */
	REDACT_PROG_SQLPLUS,	/* user/password@db */
	REDACT_PROG_MAX
};

/* The program a word names (its basename, ".exe" and a "-12" version
 * suffix aside), or REDACT_PROG_NONE for one not in the tables. */
enum redact_prog redact_prog_of(const char *w, size_t n);

/* How many words after this one the program takes a secret positionally
 * (rabbitmqctl add_user U P: 2); 0 none. */
size_t redact_positional(enum redact_prog prog, const char *w, size_t n);

/* -u, -U, --user, --proxy-user: a user:password (or user%password). */
bool redact_is_user_flag(enum redact_prog prog, const char *w, size_t n);

enum redact_flag {
	REDACT_FLAG_NONE,
	REDACT_FLAG_VALUE,	/* the next word is a secret */
	REDACT_FLAG_USERPASS,	/* the next word is user:password */
};

/* An option that is a password only for this program (redis-cli -a). */
enum redact_flag redact_prog_flag(enum redact_prog prog, const char *w,
    size_t n);

/* Does "-p VALUE" give a password (sshpass) rather than a port or
 * nothing (mysql prompts, cp preserves)?  Ports are left to the caller. */
bool redact_p_takes_password(enum redact_prog prog);

enum redact_attached {
	REDACT_P_HARMLESS,	/* -pthread to gcc, -pv to mkdir, -p5432 */
	REDACT_P_SECRET,	/* mysql -pSECRET: mask what follows -p */
	REDACT_P_FLAG,		/* -password, -pass, -pw: the next word */
};

/* -pXXX (no '='): what it is for this program. */
enum redact_attached redact_attached_p(enum redact_prog prog, const char *w,
    size_t n);

/* A name (option without its dashes, variable, header, JSON key, query
 * parameter) that holds secrets: password, token, api_key, ...PASS. */
bool redact_name_is_secret(const char *name, size_t len);

/* An option word (with its dashes, no '=') whose value is a secret:
 * --password, --client-secret, -storepass; not --no-password,
 * --password-stdin, --key-file. */
bool redact_flag_wants_secret(const char *w, size_t n);

/* A bare configuration key whose value follows it: aws_secret_access_key,
 * user.password, //registry/:_authToken, npmAuthToken. */
bool redact_key_wants_secret(const char *w, size_t n);

/* Bearer, Basic, Token, Digest, Negotiate, ... (any case). */
bool redact_is_auth_scheme(const char *w, size_t n);

/* 5432, 8080:80, 127.0.0.1:8080:80, 53/udp: what -p means for ssh, psql,
 * redis-cli and docker. */
bool redact_looks_like_port(const char *s, size_t n);

/* URL schemes: scheme characters, and the schemes where a token travels
 * as the user name (https://TOKEN@host). */
bool redact_is_scheme_char(char c);
bool redact_token_scheme(const char *s, size_t n);

#endif
