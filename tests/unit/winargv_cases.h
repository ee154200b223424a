/*
 * Command lines and their arguments as CommandLineToArgvW gives them:
 * test_winargv.c checks winargv_split() against the table on every
 * platform, test_winargv_win.c checks the table against Windows itself.
 * Arguments are separated by '|' in `want`.
 */
#ifndef PROCNET_TESTS_WINARGV_CASES_H
#define PROCNET_TESTS_WINARGV_CASES_H

static const struct {
	const char *cmd;
	unsigned argc;
	const char *want;
} winargv_cases[] = {
	{ "a", 1, "a" },
	{ "a b  c", 3, "a|b|c" },
	{ "a\tb", 2, "a|b" },
	{ "a b ", 2, "a|b" },
	{ " a b", 3, "|a|b" },
	{ "\"C:\\Program Files\\x.exe\" -v", 2, "C:\\Program Files\\x.exe|-v" },
	{ "\"C:\\dir\\\" x", 2, "C:\\dir\\|x" },
	{ "\"a\"b c", 3, "a|b|c" },
	{ "\"unterminated program", 1, "unterminated program" },
	{ "C:\\a\\b.exe c:\\x\\y", 2, "C:\\a\\b.exe|c:\\x\\y" },
	{ "p --password \"two words\"", 3, "p|--password|two words" },
	{ "p \"\" x", 3, "p||x" },
	{ "p a\"b c\"d", 2, "p|ab cd" },
	{ "p a\\\"b", 2, "p|a\"b" },
	{ "p a\\\\\"b c\"", 2, "p|a\\b c" },
	{ "p a\\\\\\\"b", 2, "p|a\\\"b" },
	{ "p a\\\\b", 2, "p|a\\\\b" },
	{ "p \"a\"\"b\" c", 2, "p|a\"b c" },
	{ "p \"a\"\"b\"", 2, "p|a\"b" },
	{ "p \"\"\"\"", 2, "p|\"" },
	{ "p \"\"\"", 2, "p|\"" },
	{ "p \\\"\"", 2, "p|\"" },
	{ "p \"\\\"\"", 2, "p|\"" },
	{ "p \"a b", 2, "p|a b" },
	{ "p -Dx=\"y z\" -u alice:h%20", 4, "p|-Dx=y z|-u|alice:h%20" },
	{ "p caf\xc3\xa9 \"\xe2\x9c\x93 ok\"", 3, "p|caf\xc3\xa9|\xe2\x9c\x93 ok" },
};

#endif
