/* replay_table.h - the DPoP replay table in one block of memory (shared
 * memory in httpd): a fixed number of slots, each a keyed name and the
 * second it expires, with an add-if-absent that never evicts a live
 * record. The caller serialises calls (httpd: one global mutex).
 *
 * Open addressing: a name's probe sequence starts at its first 8 bytes
 * (the names are HMAC outputs, uniform) and runs over CKA_RT_PROBES slots.
 * An add looks at the whole sequence: a live record of the name is a
 * replay; otherwise the name goes into the first empty or expired slot of
 * the sequence; when there is none, the table is full for that name and
 * nothing is written (the caller refuses the proof). A slot once used is
 * never marked empty again, so a live record is always found within the
 * sequence it was placed in. No httpd header. */
#ifndef CKA_REPLAY_TABLE_H
#define CKA_REPLAY_TABLE_H
#include <stddef.h>
#include <stdint.h>

#define CKA_RT_NAME_LEN 32
#define CKA_RT_PROBES   64

typedef struct {
    unsigned char name[CKA_RT_NAME_LEN];
    int64_t       expiry;          /* Unix seconds; 0: never used          */
} cka_rt_slot_t;

typedef struct {
    uint32_t magic;
    uint32_t nslots;
    uint64_t added;                /* records written                       */
    uint64_t replays;              /* adds refused as replays               */
    uint64_t full;                 /* adds refused: no free slot            */
} cka_rt_head_t;

/* Slots that fit in bytes (0 when fewer than CKA_RT_PROBES fit). */
size_t cka_rt_slots_for(size_t bytes);
/* Bytes for nslots slots. */
size_t cka_rt_bytes(size_t nslots);
/* Make mem (bytes long) an empty table; 0, or -1 when too small. */
int cka_rt_init(void *mem, size_t bytes);
/* Is mem a table made by cka_rt_init for bytes? */
int cka_rt_valid(const void *mem, size_t bytes);

typedef enum { CKA_RT_FULL = -1, CKA_RT_SEEN = 0, CKA_RT_ADDED = 1 } cka_rt_result_t;
/* Add name until expiry (> now) unless a live record of it is there. */
cka_rt_result_t cka_rt_add(void *mem, const unsigned char name[CKA_RT_NAME_LEN],
                           int64_t now, int64_t expiry);
/* Live records at now (a full scan: for tests and the status page). */
size_t cka_rt_live(const void *mem, int64_t now);

#endif
