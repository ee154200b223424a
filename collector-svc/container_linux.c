/*
 * Container names from the runtimes' files (container_linux.h).
 */
#include "container_linux.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"

#define NS_DIRS_MAX	64	/* containerd namespaces looked at */
#define NAME_MAX_LEN	256

struct centry {
	char runtime[16];
	char id[CGROUP_ID_MAX];
	char name[NAME_MAX_LEN];
	int64_t miss_ms;	/* when looked up in vain; 0 = found */
};

struct container_names {
	char root[1024];
	struct centry *ents;
	size_t n;
	/* containers.json of containers/storage, read once per change */
	struct timespec storage_mtime;
	off_t storage_size;
	json_t *storage;
};

struct container_names *
container_names_new(const char *root)
{
	struct container_names *cn = calloc(1, sizeof(*cn));

	if (cn == NULL)
		return NULL;
	if (root != NULL && root[0] != '\0' && strcmp(root, "/") != 0)
		snprintf(cn->root, sizeof(cn->root), "%s", root);
	cn->ents = calloc(CONTAINER_CACHE_MAX, sizeof(*cn->ents));
	if (cn->ents == NULL) {
		free(cn);
		return NULL;
	}
	return cn;
}

void
container_names_free(struct container_names *cn)
{
	if (cn == NULL)
		return;
	json_decref(cn->storage);
	free(cn->ents);
	free(cn);
}

/* A JSON file no larger than max, or NULL. */
static json_t *
load_capped(const char *path, size_t max, struct stat *st_out)
{
	struct stat st;
	json_error_t err;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max)
		return NULL;
	if (st_out != NULL)
		*st_out = st;
	return json_load_file(path, JSON_REJECT_DUPLICATES, &err);
}

static void
set_name(char *out, const char *name)
{
	/* docker keeps a leading '/' */
	if (name[0] == '/')
		name++;
	snprintf(out, NAME_MAX_LEN, "%s", name);
}

static bool
docker_name(struct container_names *cn, const char *id, char *out)
{
	char path[2048];
	json_t *j, *n;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s/"
	    "config.v2.json", cn->root, id);
	if ((j = load_capped(path, 4u * 1024u * 1024u, NULL)) == NULL)
		return false;
	n = json_object_get(j, "Name");
	if (json_is_string(n) && json_string_value(n)[0] != '\0') {
		set_name(out, json_string_value(n));
		ok = true;
	}
	json_decref(j);
	return ok;
}

/* containers/storage's list of containers, reread when it changed. */
static json_t *
storage_list(struct container_names *cn)
{
	char path[2048];
	struct stat st;

	snprintf(path, sizeof(path), "%s/var/lib/containers/storage/"
	    "overlay-containers/containers.json", cn->root);
	if (stat(path, &st) != 0) {
		json_decref(cn->storage);
		cn->storage = NULL;
		return NULL;
	}
	if (cn->storage != NULL && st.st_size == cn->storage_size &&
	    st.st_mtim.tv_sec == cn->storage_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == cn->storage_mtime.tv_nsec)
		return cn->storage;
	json_decref(cn->storage);
	cn->storage = load_capped(path, CONTAINER_FILE_MAX, &st);
	cn->storage_mtime = st.st_mtim;
	cn->storage_size = st.st_size;
	return json_is_array(cn->storage) ? cn->storage : NULL;
}

static bool
storage_name(struct container_names *cn, const char *id, char *out)
{
	json_t *list = storage_list(cn), *c;
	size_t i;

	if (list == NULL)
		return false;
	json_array_foreach(list, i, c) {
		json_t *cid = json_object_get(c, "id");
		json_t *names = json_object_get(c, "names");
		json_t *first = json_array_get(names, 0);

		if (!json_is_string(cid) || strcmp(json_string_value(cid),
		    id) != 0)
			continue;
		if (!json_is_string(first))
			return false;
		set_name(out, json_string_value(first));
		return true;
	}
	return false;
}

static bool
containerd_name(struct container_names *cn, const char *id, char *out)
{
	static const char *const keys[] = {
		"io.kubernetes.cri.container-name",
		"nerdctl/name",
	};
	char dir[1536], path[2048];
	struct dirent *d;
	int seen = 0;
	bool ok = false;
	DIR *ns;

	snprintf(dir, sizeof(dir), "%s/run/containerd/"
	    "io.containerd.runtime.v2.task", cn->root);
	if ((ns = opendir(dir)) == NULL)
		return false;
	while (!ok && (d = readdir(ns)) != NULL && seen++ < NS_DIRS_MAX) {
		json_t *j, *ann;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/config.json", dir,
		    d->d_name, id);
		if ((j = load_capped(path, 4u * 1024u * 1024u, NULL)) == NULL)
			continue;
		ann = json_object_get(j, "annotations");
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			json_t *v = json_object_get(ann, keys[k]);

			if (json_is_string(v) && json_string_value(v)[0]) {
				set_name(out, json_string_value(v));
				ok = true;
				break;
			}
		}
		json_decref(j);
	}
	closedir(ns);
	return ok;
}

static bool
safe_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= CGROUP_ID_MAX)
		return false;
	/* it goes into paths: hex only, as cgroup.c accepts */
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

const char *
container_name(struct container_names *cn, const char *runtime,
    const char *id, int64_t now_ms)
{
	struct centry *e = NULL;
	bool ok = false;
	size_t i;

	if (!safe_id(id) || strlen(runtime) >= sizeof(e->runtime))
		return "";
	for (i = 0; i < cn->n; i++)
		if (strcmp(cn->ents[i].id, id) == 0 &&
		    strcmp(cn->ents[i].runtime, runtime) == 0) {
			e = &cn->ents[i];
			break;
		}
	if (e != NULL && (e->miss_ms == 0 ||
	    now_ms - e->miss_ms < CONTAINER_RETRY_MS))
		return e->name;
	if (e == NULL) {
		if (cn->n == CONTAINER_CACHE_MAX)
			cn->n = 0;	/* start over: simpler than LRU here */
		e = &cn->ents[cn->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->id, id, strlen(id) + 1);
		memcpy(e->runtime, runtime, strlen(runtime) + 1);
	}
	e->name[0] = '\0';
	if (strcmp(runtime, "docker") == 0)
		ok = docker_name(cn, id, e->name);
	else if (strcmp(runtime, "podman") == 0 ||
	    strcmp(runtime, "cri-o") == 0)
		ok = storage_name(cn, id, e->name);
	else if (strcmp(runtime, "containerd") == 0)
		ok = containerd_name(cn, id, e->name);
	e->miss_ms = ok ? 0 : (now_ms != 0 ? now_ms : 1);
	return e->name;
}
