/* key.h - one verification key (helper K fills this in; for now keyset.h
 * still holds the types). */
#ifndef CKA_KEY_H
#define CKA_KEY_H
#endif
