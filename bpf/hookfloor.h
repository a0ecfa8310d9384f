/*
 * hookfloor.h - what bpf/hookfloor.bpf.c counts: nothing it sends, only
 * its runs (a BSS counter per hook), so that the benchmark can check the
 * hooks fired.
 */
#ifndef BPF_HOOKFLOOR_H
#define BPF_HOOKFLOOR_H

#include <linux/types.h>

#endif
