/*
 * Wall-clock hours: parsing "HH:MM" and validating one day's ranges.
 *
 * A day's hours are stored sorted with touching ranges merged, so that the rest
 * of the engine can walk them in order. Overlapping ranges are an error rather
 * than merged: they are almost always a typing mistake, and docs/api.md says so.
 */
#include "slotd/engine.h"

#include <string.h>

int eng_parse_wall_minutes(const char *text, bool allow_24, uint16_t *minutes)
{
    if (strlen(text) != 5 || text[2] != ':')
        return ENG_EINVAL;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (text[i] < '0' || text[i] > '9'))
            return ENG_EINVAL;
    int h = (text[0] - '0') * 10 + (text[1] - '0');
    int m = (text[3] - '0') * 10 + (text[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
        return ENG_EINVAL;
    *minutes = (uint16_t)(h * 60 + m);
    return ENG_OK;
}

int eng_day_hours_normalize(eng_day_hours_t *hours, int *bad)
{
    if (hours->count > ENG_MAX_DAY_RANGES) {
        *bad = ENG_MAX_DAY_RANGES;
        return ENG_ELIMIT;
    }
    int order[ENG_MAX_DAY_RANGES];
    for (int i = 0; i < hours->count; i++) {
        const eng_hours_range_t *r = &hours->ranges[i];
        if (r->start >= r->end || r->end > 1440) {
            *bad = i;
            return ENG_ERANGE_ORDER;
        }
        /* insertion sort of indices by start */
        int j = i;
        while (j > 0 && hours->ranges[order[j - 1]].start > r->start) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    eng_day_hours_t sorted = {0};
    for (int k = 0; k < hours->count; k++) {
        const eng_hours_range_t *r = &hours->ranges[order[k]];
        if (sorted.count > 0) {
            eng_hours_range_t *last = &sorted.ranges[sorted.count - 1];
            if (r->start < last->end) {
                *bad = order[k];
                return ENG_ERANGE_OVERLAP;
            }
            if (r->start == last->end) {
                last->end = r->end;
                continue;
            }
        }
        sorted.ranges[sorted.count++] = *r;
    }
    *hours = sorted;
    return ENG_OK;
}
