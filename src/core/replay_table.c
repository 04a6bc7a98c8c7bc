/* replay_table.c - add-if-absent over a fixed table (see the .h). */
#include "replay_table.h"
#include <string.h>

#define RT_MAGIC 0x434b5254u      /* "CKRT" */

size_t cka_rt_bytes(size_t nslots)
{
    return sizeof(cka_rt_head_t) + nslots * sizeof(cka_rt_slot_t);
}

size_t cka_rt_slots_for(size_t bytes)
{
    if (bytes < cka_rt_bytes(CKA_RT_PROBES))
        return 0;
    size_t n = (bytes - sizeof(cka_rt_head_t)) / sizeof(cka_rt_slot_t);
    return n > UINT32_MAX ? UINT32_MAX : n;
}

int cka_rt_init(void *mem, size_t bytes)
{
    size_t n = cka_rt_slots_for(bytes);
    if (mem == NULL || n == 0)
        return -1;
    memset(mem, 0, cka_rt_bytes(n));
    cka_rt_head_t *h = mem;
    h->magic = RT_MAGIC;
    h->nslots = (uint32_t)n;
    return 0;
}

int cka_rt_valid(const void *mem, size_t bytes)
{
    const cka_rt_head_t *h = mem;
    return mem != NULL && h->magic == RT_MAGIC && h->nslots >= CKA_RT_PROBES
        && cka_rt_bytes(h->nslots) <= bytes;
}

static cka_rt_slot_t *slots(void *mem)
{
    return (cka_rt_slot_t *)((unsigned char *)mem + sizeof(cka_rt_head_t));
}

cka_rt_result_t cka_rt_add(void *mem, const unsigned char name[CKA_RT_NAME_LEN],
                           int64_t now, int64_t expiry)
{
    cka_rt_head_t *h = mem;
    cka_rt_slot_t *s = slots(mem);
    uint64_t start = 0;
    for (int i = 0; i < 8; i++)
        start = start << 8 | name[i];
    cka_rt_slot_t *free_slot = NULL;
    for (uint32_t k = 0; k < CKA_RT_PROBES; k++) {
        cka_rt_slot_t *sl = &s[(start + k) % h->nslots];
        if (sl->expiry == 0) {               /* never used: the sequence ends */
            if (free_slot == NULL)
                free_slot = sl;
            break;
        }
        if (sl->expiry <= now) {             /* expired: reusable             */
            if (free_slot == NULL)
                free_slot = sl;
            continue;
        }
        if (memcmp(sl->name, name, CKA_RT_NAME_LEN) == 0) {
            h->replays++;
            return CKA_RT_SEEN;
        }
    }
    if (free_slot == NULL) {
        h->full++;
        return CKA_RT_FULL;
    }
    memcpy(free_slot->name, name, CKA_RT_NAME_LEN);
    free_slot->expiry = expiry > now ? expiry : now + 1;
    h->added++;
    return CKA_RT_ADDED;
}

size_t cka_rt_live(const void *mem, int64_t now)
{
    const cka_rt_head_t *h = mem;
    const cka_rt_slot_t *s = (const cka_rt_slot_t *)((const unsigned char *)mem
                                                     + sizeof(cka_rt_head_t));
    size_t n = 0;
    for (uint32_t i = 0; i < h->nslots; i++)
        n += s[i].expiry > now;
    return n;
}
