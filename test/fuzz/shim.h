/* shim.h: the harness's side of shim.c. */
#ifndef WORKITEM_FUZZ_SHIM_H
#define WORKITEM_FUZZ_SHIM_H

#include <setjmp.h>

#include "pgtime.h"

extern sigjmp_buf *shim_error_jump;	/* where ereport(ERROR) lands */
extern int	shim_error_code;		/* its SQLSTATE (MAKE_SQLSTATE) */
extern char shim_error_message[1024];

extern void shim_reset(void);		/* frees everything palloc'd */
extern pg_tz *shim_zone(int i);

#endif
