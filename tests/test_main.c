/*
 * The test runner: see test.h.
 */
#include "test.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slotd/tz.h"

#define MAX_TESTS 512

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static int test_count;

void test_register(const char *name, test_fn fn)
{
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    tests[test_count].name = name;
    tests[test_count].fn = fn;
    test_count++;
}

static int parse_int(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            fprintf(stderr, "malformed time in test: %s\n", s);
            exit(2);
        }
        v = v * 10 + s[i] - '0';
    }
    return v;
}

int64_t test_wall(const char *t)
{
    if (strlen(t) < 16 || t[4] != '-' || t[10] != 'T' || t[13] != ':') {
        fprintf(stderr, "malformed wall time in test: %s\n", t);
        exit(2);
    }
    int64_t day = tz_days_from_civil(parse_int(t, 4), parse_int(t + 5, 2), parse_int(t + 8, 2));
    return day * 86400 + parse_int(t + 11, 2) * 3600 + parse_int(t + 14, 2) * 60;
}

int64_t test_instant(const char *t)
{
    int64_t wall = test_wall(t);
    const char *rest = t + 16;
    if (*rest == ':') {
        wall += parse_int(rest + 1, 2);
        rest += 3;
    }
    if (*rest == 'Z')
        return wall;
    if ((*rest != '+' && *rest != '-') || strlen(rest) != 6) {
        fprintf(stderr, "malformed instant in test: %s\n", t);
        exit(2);
    }
    int offset = parse_int(rest + 1, 2) * 3600 + parse_int(rest + 4, 2) * 60;
    return *rest == '+' ? wall - offset : wall + offset;
}

int32_t test_day(const char *text)
{
    int32_t day;
    if (tz_parse_date(text, &day) != 0) {
        fprintf(stderr, "malformed date in test: %s\n", text);
        exit(2);
    }
    return day;
}

struct tz_zone *test_zone(const char *name)
{
    tz_zone_t *zone;
    if (tz_zone_find(name, &zone) != 0) {
        fprintf(stderr, "unknown zone in test: %s\n", name);
        exit(2);
    }
    return zone;
}

const char *test_format(struct tz_zone *zone, int64_t instant)
{
    static char ring[8][40];
    static int next;
    char *buf = ring[next++ % 8];
    int32_t offset = tz_offset_at(zone, instant);
    int64_t wall = instant + offset;
    tz_date_t d = tz_civil_from_days(tz_day_of(wall));
    int64_t sec = wall - (int64_t)tz_day_of(wall) * 86400;
    int32_t abs_off = offset < 0 ? -offset : offset;
    snprintf(buf, 40, "%04d-%02d-%02dT%02d:%02d%c%02d:%02d", d.year, d.month, d.day,
             (int)(sec / 3600), (int)(sec / 60 % 60), offset < 0 ? '-' : '+', abs_off / 3600,
             abs_off / 60 % 60);
    return buf;
}

char *test_node(const char *script, const char *const *args, size_t *length_out)
{
    const char *source = getenv("SLOTD_SOURCE_DIR");
    CHECK(source != NULL);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", source, script);
    const char *argv[16] = {"node", path};
    size_t n = 2;
    for (; args && args[n - 2] && n < 15; n++)
        argv[n] = args[n - 2];
    argv[n] = NULL;
    int out[2];
    CHECK(pipe(out) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execvp("node", (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char *text = NULL;
    size_t length = 0, capacity = 0;
    for (;;) {
        if (length + 4096 + 1 > capacity) {
            capacity = 2 * (length + 4096 + 1);
            text = realloc(text, capacity);
            CHECK(text != NULL);
        }
        ssize_t got = read(out[0], text + length, capacity - length - 1);
        CHECK(got >= 0);
        if (got == 0)
            break;
        length += (size_t)got;
    }
    close(out[0]);
    text[length] = 0;
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s failed (status %d; is `npm ci` done in its folder?): %s\n", script,
                status, text);
        exit(1);
    }
    if (length_out)
        *length_out = length;
    return text;
}

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 0; i < test_count; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        tests[i].fn();
        tz_shutdown();
        ran++;
        if (argc == 1)
            printf("ok %s\n", tests[i].name);
    }
    if (ran == 0) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    if (argc == 1)
        printf("%d passed, 0 failed\n", ran);
    return 0;
}
