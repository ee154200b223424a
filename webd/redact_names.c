/*
 * The tables behind webd/redact.c: secret names, auth schemes, and the
 * programs whose options are passwords in their own way.
 */
#include "redact_names.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* A name is judged by its last NAME_TAIL bytes: enough for any real one
 * (-Djavax.net.ssl.keyStorePassword), and a bound that keeps a caller
 * that asks once per '=' of a long word linear. */
#define NAME_TAIL	128u

/* Parts (lowercased, without '-', '_' and '.') that make a name secret
 * wherever they appear, and endings that do at the end only (so "key"
 * catches api_key and AccountKey but not keyboard). */
static const char *const secret_parts[] = {
	"password", "passwd", "passphrase", "secret", "token", "apikey",
	"accesskey", "privatekey", "credential", "authorization", "cookie",
	"sessionid", "bearer", "signature",
};
static const char *const secret_suffixes[] = {
	"pass", "pwd", "key", "auth", "pw", "psk",
};

/* Options named like secrets whose value is not one (or that take none). */
static const char *const harmless_prefixes[] = { "no", "ask" };
static const char *const harmless_suffixes[] = {
	"file", "stdin", "fd", "prompt", "env", "path", "dir", "cmd",
	"command", "helper", "type", "length", "size",
};

/* name without leading dashes, lowercased, '-', '_' and '.' left out */
static size_t
normalize(const char *name, size_t len, char norm[NAME_TAIL + 1])
{
	size_t n = 0;

	while (len > 0 && *name == '-') {
		name++;
		len--;
	}
	if (len > NAME_TAIL) {
		name += len - NAME_TAIL;
		len = NAME_TAIL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c != '-' && c != '_' && c != '.')
			norm[n++] = (char)tolower(c);
	}
	norm[n] = '\0';
	return n;
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

static bool
norm_is_secret(const char *norm, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(secret_parts); i++)
		if (strstr(norm, secret_parts[i]) != NULL)
			return true;
	for (size_t i = 0; i < ARRAY_LEN(secret_suffixes); i++)
		if (ends_with(norm, n, secret_suffixes[i]))
			return true;
	return false;
}

bool
redact_name_is_secret(const char *name, size_t len)
{
	char norm[NAME_TAIL + 1];

	return norm_is_secret(norm, normalize(name, len, norm));
}

bool
redact_flag_wants_secret(const char *w, size_t n)
{
	char norm[NAME_TAIL + 1];
	size_t k = normalize(w, n, norm);

	if (!norm_is_secret(norm, k))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(harmless_prefixes); i++)
		if (strncmp(norm, harmless_prefixes[i],
		    strlen(harmless_prefixes[i])) == 0)
			return false;
	for (size_t i = 0; i < ARRAY_LEN(harmless_suffixes); i++)
		if (ends_with(norm, k, harmless_suffixes[i]))
			return false;
	return true;
}

bool
redact_key_wants_secret(const char *w, size_t n)
{
	size_t start = 0, slash = 0, colon = 0, dot = 0;
	bool shaped = false;

	/* not an option, a dotfile (.htpasswd) or a sentence */
	if (n < 4 || n > NAME_TAIL || w[0] == '-' || w[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c == '/')
			slash = i + 1;
		else if (c == ':')
			colon = i + 1;
		else if (c == '.')
			dot = i + 1;
		else if (!isalnum(c) && c != '_' && c != '-')
			return false;
	}
	/* a path is no key, but //registry/:_authToken is */
	if (slash > colon)
		return false;
	start = colon;
	/* a key, not a word: snake_case, dotted, dashed or camelCase */
	for (size_t i = start; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c == '_' || c == '.' || (i > start && (c == '-' ||
		    isupper(c))))
			shaped = true;
	}
	/* db.password is a key, secret.zip a file name */
	if (dot > start)
		return redact_name_is_secret(w + dot, n - dot);
	return shaped && redact_name_is_secret(w + start, n - start);
}

bool
redact_is_auth_scheme(const char *w, size_t n)
{
	static const char *const schemes[] = { "Bearer", "Basic", "Token",
	    "Digest", "Negotiate", "NTLM", "OAuth", "ApiKey", "Key" };

	for (size_t i = 0; i < ARRAY_LEN(schemes); i++)
		if (n == strlen(schemes[i]) && strncasecmp(w, schemes[i], n) == 0)
			return true;
	return false;
}

bool
redact_looks_like_port(const char *s, size_t n)
{
	bool digit = false, slash = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isdigit(c))
			digit = true;
		else if (c == '/')
			slash = true;
		else if (c != ':' && c != '.' && c != '-' &&
		    !(slash && isalpha(c)))
			return false;
	}
	return digit;
}

bool
redact_is_scheme_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

bool
redact_token_scheme(const char *s, size_t n)
{
	static const char *const schemes[] = {
		"http", "https", "git", "ssh", "git+ssh", "ssh+git", "git+https",
		"ftp", "ftps", "sftp", "svn", "svn+ssh", "ws", "wss", "rsync",
		"hg", "s3", "gs", "webdav", "davs",
	};

	for (size_t i = 0; i < ARRAY_LEN(schemes); i++)
		if (n == strlen(schemes[i]) && strncasecmp(s, schemes[i], n) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	enum redact_prog prog;
} progs[] = {
	{ "mysql", REDACT_PROG_MYSQL },
	{ "mysqldump", REDACT_PROG_MYSQL },
	{ "mysqlimport", REDACT_PROG_MYSQL },
	{ "mysqlshow", REDACT_PROG_MYSQL },
	{ "mysqlcheck", REDACT_PROG_MYSQL },
	{ "mysqlslap", REDACT_PROG_MYSQL },
	{ "mysqlbinlog", REDACT_PROG_MYSQL },
	{ "mysqlpump", REDACT_PROG_MYSQL },
	{ "mysqlsh", REDACT_PROG_MYSQL },
	{ "mariadb", REDACT_PROG_MYSQL },
	{ "mariadb-dump", REDACT_PROG_MYSQL },
	{ "mariadb-admin", REDACT_PROG_MYSQLADMIN },
	{ "mysqladmin", REDACT_PROG_MYSQLADMIN },
	{ "cc", REDACT_PROG_COMPILER },
	{ "c++", REDACT_PROG_COMPILER },
	{ "gcc", REDACT_PROG_COMPILER },
	{ "g++", REDACT_PROG_COMPILER },
	{ "cpp", REDACT_PROG_COMPILER },
	{ "clang", REDACT_PROG_COMPILER },
	{ "clang++", REDACT_PROG_COMPILER },
	{ "gfortran", REDACT_PROG_COMPILER },
	{ "ld", REDACT_PROG_COMPILER },
	{ "ld.bfd", REDACT_PROG_COMPILER },
	{ "ld.gold", REDACT_PROG_COMPILER },
	{ "ld.lld", REDACT_PROG_COMPILER },
	{ "collect2", REDACT_PROG_COMPILER },
	{ "cc1", REDACT_PROG_COMPILER },
	{ "cc1plus", REDACT_PROG_COMPILER },
	{ "tcc", REDACT_PROG_COMPILER },
	{ "icc", REDACT_PROG_COMPILER },
	{ "nvcc", REDACT_PROG_COMPILER },
	{ "cp", REDACT_PROG_PFLAG },
	{ "mv", REDACT_PROG_PFLAG },
	{ "mkdir", REDACT_PROG_PFLAG },
	{ "install", REDACT_PROG_PFLAG },
	{ "rsync", REDACT_PROG_PFLAG },
	{ "tar", REDACT_PROG_PFLAG },
	{ "ls", REDACT_PROG_PFLAG },
	{ "ps", REDACT_PROG_PFLAG },
	{ "pgrep", REDACT_PROG_PFLAG },
	{ "pkill", REDACT_PROG_PFLAG },
	{ "pstree", REDACT_PROG_PFLAG },
	{ "ln", REDACT_PROG_PFLAG },
	{ "diff", REDACT_PROG_PFLAG },
	{ "patch", REDACT_PROG_PFLAG },
	{ "git", REDACT_PROG_PFLAG },
	{ "xargs", REDACT_PROG_PFLAG },
	{ "mktemp", REDACT_PROG_PFLAG },
	{ "strace", REDACT_PROG_PFLAG },
	{ "ltrace", REDACT_PROG_PFLAG },
	{ "perf", REDACT_PROG_PFLAG },
	{ "gdb", REDACT_PROG_PFLAG },
	{ "perl", REDACT_PROG_PFLAG },
	{ "java", REDACT_PROG_PFLAG },
	{ "iptables", REDACT_PROG_PFLAG },
	{ "ip6tables", REDACT_PROG_PFLAG },
	{ "tcpdump", REDACT_PROG_PFLAG },
	{ "lsof", REDACT_PROG_PFLAG },
	{ "unzip", REDACT_PROG_CAPITAL_P },
	{ "zip", REDACT_PROG_CAPITAL_P },
	{ "zipcloak", REDACT_PROG_CAPITAL_P },
	{ "mosquitto_pub", REDACT_PROG_CAPITAL_P },
	{ "mosquitto_sub", REDACT_PROG_CAPITAL_P },
	{ "mosquitto_rr", REDACT_PROG_CAPITAL_P },
	{ "sqlcmd", REDACT_PROG_CAPITAL_P },
	{ "bcp", REDACT_PROG_CAPITAL_P },
	{ "osql", REDACT_PROG_CAPITAL_P },
	{ "isql", REDACT_PROG_CAPITAL_P },
	{ "redis-cli", REDACT_PROG_REDIS },
	{ "valkey-cli", REDACT_PROG_REDIS },
	{ "keydb-cli", REDACT_PROG_REDIS },
	{ "redis-benchmark", REDACT_PROG_REDIS },
	{ "ldapsearch", REDACT_PROG_LDAP },
	{ "ldapmodify", REDACT_PROG_LDAP },
	{ "ldapadd", REDACT_PROG_LDAP },
	{ "ldapdelete", REDACT_PROG_LDAP },
	{ "ldapwhoami", REDACT_PROG_LDAP },
	{ "ldappasswd", REDACT_PROG_LDAP },
	{ "ldapcompare", REDACT_PROG_LDAP },
	{ "ldapmodrdn", REDACT_PROG_LDAP },
	{ "ldapexop", REDACT_PROG_LDAP },
	{ "openssl", REDACT_PROG_OPENSSL },
	{ "http", REDACT_PROG_HTTPIE },
	{ "https", REDACT_PROG_HTTPIE },
	{ "ssh-keygen", REDACT_PROG_SSHKEYGEN },
	{ "doctl", REDACT_PROG_DOCTL },
	{ "htpasswd", REDACT_PROG_HTPASSWD },
	{ "rabbitmqctl", REDACT_PROG_RABBITMQCTL },
	{ "vault", REDACT_PROG_VAULT },
	{ "nmcli", REDACT_PROG_NMCLI },
	{ "wpa_passphrase", REDACT_PROG_WPA_PASSPHRASE },
	{ "sqlplus", REDACT_PROG_SQLPLUS },
	{ "sqlldr", REDACT_PROG_SQLPLUS },
	{ "rman", REDACT_PROG_SQLPLUS },
	{ "expdp", REDACT_PROG_SQLPLUS },
	{ "impdp", REDACT_PROG_SQLPLUS },
};

/* Program names a version suffix may follow: gcc-12, clang-16, and a
 * target prefix may precede: x86_64-linux-gnu-gcc. */
static const char *const compiler_stems[] = {
	"gcc", "g++", "clang", "clang++", "cpp", "gfortran", "ld",
};

static enum redact_prog
compiler_like(const char *b, size_t n)
{
	size_t end = n;

	/* a trailing "-12" or "-16.0" */
	while (end > 0 && (isdigit((unsigned char)b[end - 1]) ||
	    b[end - 1] == '.'))
		end--;
	if (end > 0 && end < n && b[end - 1] == '-')
		n = end - 1;
	for (size_t i = 0; i < ARRAY_LEN(compiler_stems); i++) {
		size_t sl = strlen(compiler_stems[i]);

		if (n >= sl && memcmp(b + n - sl, compiler_stems[i], sl) == 0 &&
		    (n == sl || b[n - sl - 1] == '-'))
			return REDACT_PROG_COMPILER;
	}
	return REDACT_PROG_NONE;
}

enum redact_prog
redact_prog_of(const char *w, size_t n)
{
	char b[64];
	size_t start = 0, len;

	if (n == 0 || w[0] == '-' || memchr(w, '=', n) != NULL ||
	    memchr(w, ' ', n) != NULL)
		return REDACT_PROG_NONE;
	for (size_t i = 0; i < n; i++)
		if (w[i] == '/' || w[i] == '\\')
			start = i + 1;
	len = n - start;
	if (len > 4 && strncasecmp(w + n - 4, ".exe", 4) == 0)
		len -= 4;
	if (len == 0 || len >= sizeof(b))
		return REDACT_PROG_NONE;
	for (size_t i = 0; i < len; i++)
		b[i] = (char)tolower((unsigned char)w[start + i]);
	b[len] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(progs); i++)
		if (strcmp(b, progs[i].name) == 0)
			return progs[i].prog;
	return compiler_like(b, len);
}

size_t
redact_positional(enum redact_prog prog, const char *w, size_t n)
{
	static const struct {
		enum redact_prog prog;
		const char *word;	/* NULL: the program's own name */
		size_t skip;
	} rules[] = {
		{ REDACT_PROG_MYSQLADMIN, "password", 1 },
		{ REDACT_PROG_NMCLI, "password", 1 },
		{ REDACT_PROG_RABBITMQCTL, "add_user", 2 },
		{ REDACT_PROG_RABBITMQCTL, "change_password", 2 },
		{ REDACT_PROG_VAULT, "login", 1 },
		{ REDACT_PROG_WPA_PASSPHRASE, NULL, 2 },
	};

	for (size_t i = 0; i < ARRAY_LEN(rules); i++) {
		if (rules[i].prog != prog)
			continue;
		if (rules[i].word == NULL ? redact_prog_of(w, n) == prog :
		    n == strlen(rules[i].word) &&
		    memcmp(w, rules[i].word, n) == 0)
			return rules[i].skip;
	}
	return 0;
}

static bool
word_is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(w, s, n) == 0;
}

bool
redact_is_user_flag(enum redact_prog prog, const char *w, size_t n)
{
	(void)prog;
	return word_is(w, n, "-u") || word_is(w, n, "-U") ||
	    word_is(w, n, "--user") || word_is(w, n, "--proxy-user");
}

enum redact_flag
redact_prog_flag(enum redact_prog prog, const char *w, size_t n)
{
	static const struct {
		enum redact_prog prog;
		const char *flag;
		enum redact_flag kind;
	} flags[] = {
		{ REDACT_PROG_REDIS, "-a", REDACT_FLAG_VALUE },
		{ REDACT_PROG_LDAP, "-w", REDACT_FLAG_VALUE },
		{ REDACT_PROG_OPENSSL, "-passin", REDACT_FLAG_VALUE },
		{ REDACT_PROG_OPENSSL, "-passout", REDACT_FLAG_VALUE },
		{ REDACT_PROG_OPENSSL, "-k", REDACT_FLAG_VALUE },
		{ REDACT_PROG_CAPITAL_P, "-P", REDACT_FLAG_VALUE },
		{ REDACT_PROG_HTTPIE, "-a", REDACT_FLAG_USERPASS },
		{ REDACT_PROG_SSHKEYGEN, "-N", REDACT_FLAG_VALUE },
		{ REDACT_PROG_SSHKEYGEN, "-P", REDACT_FLAG_VALUE },
		{ REDACT_PROG_DOCTL, "-t", REDACT_FLAG_VALUE },
	};

	for (size_t i = 0; i < ARRAY_LEN(flags); i++)
		if (flags[i].prog == prog && word_is(w, n, flags[i].flag))
			return flags[i].kind;
	return REDACT_FLAG_NONE;
}

bool
redact_p_takes_password(enum redact_prog prog)
{
	return prog != REDACT_PROG_MYSQL && prog != REDACT_PROG_MYSQLADMIN &&
	    prog != REDACT_PROG_COMPILER && prog != REDACT_PROG_PFLAG;
}

enum redact_attached
redact_attached_p(enum redact_prog prog, const char *w, size_t n)
{
	/* -p words that are no password wherever they appear */
	static const char *const allowed[] = {
		"-pthread", "-pthreads", "-pedantic", "-pedantic-errors",
		"-pipe", "-pie", "-pg",
	};
	char norm[NAME_TAIL + 1];

	if (prog == REDACT_PROG_MYSQL || prog == REDACT_PROG_MYSQLADMIN)
		return REDACT_P_SECRET;
	if (prog == REDACT_PROG_COMPILER || prog == REDACT_PROG_PFLAG)
		return REDACT_P_HARMLESS;
	for (size_t i = 0; i < ARRAY_LEN(allowed); i++)
		if (word_is(w, n, allowed[i]))
			return REDACT_P_HARMLESS;
	if (n > 7 && strncmp(w, "-print-", 7) == 0)
		return REDACT_P_HARMLESS;
	if (redact_looks_like_port(w + 2, n - 2))
		return REDACT_P_HARMLESS;
	/* -password, -pass, -pw, -pwd: a password option spelled with one
	 * dash (influx, openssl, plink); its value is the next word */
	normalize(w, n, norm);
	if ((strncmp(norm, "pass", 4) == 0 || strncmp(norm, "pw", 2) == 0) &&
	    redact_flag_wants_secret(w, n))
		return REDACT_P_FLAG;
	return REDACT_P_SECRET;
}
