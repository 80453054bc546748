/* LAPACK 3.12.1's INSTALL routines that reference LAPACK's SRC/Makefile builds into liblapack and f2c
 * cannot translate (Fortran 90's numeric inquiry intrinsics EPSILON, TINY, HUGE, RADIX, DIGITS,
 * MINEXPONENT, MAXEXPONENT; the timers' CPU_TIME/ETIME), written in C: <float.h> holds the same
 * model numbers, so the results are those of INSTALL/dlamch.f, slamch.f, droundup_lwork.f and
 * sroundup_lwork.f. ABI: the library's (subroutines void, no hidden length for a CHARACTER*1
 * argument, REAL functions return float). DLAMC3/SLAMC3 (in dlamch.f/slamch.f) are called by
 * dlals0, dlasd8, ...; SECOND/DSECND (second_INT_CPU_TIME.f) return CPU seconds. */
#include <float.h>
#include <time.h>
#include "f2c.h"

static int upper(const char *c) { return (*c >= 'a' && *c <= 'z') ? *c - 32 : *c; }

doublereal dlamch_(char *cmach)
{
    const double eps = DBL_EPSILON * 0.5;  /* rounding (rnd = 1): EPSILON(0d0) * 0.5 */
    double sfmin, small;
    switch (upper(cmach)) {
    case 'E': return eps;
    case 'S':
        sfmin = DBL_MIN;
        small = 1.0 / DBL_MAX;
        if (small >= sfmin) sfmin = small * (1.0 + eps);
        return sfmin;
    case 'B': return FLT_RADIX;
    case 'P': return eps * FLT_RADIX;
    case 'N': return DBL_MANT_DIG;
    case 'R': return 1.0;
    case 'M': return DBL_MIN_EXP;
    case 'U': return DBL_MIN;
    case 'L': return DBL_MAX_EXP;
    case 'O': return DBL_MAX;
    default: return 0.0;
    }
}

real slamch_(char *cmach)
{
    const float eps = FLT_EPSILON * 0.5f;
    float sfmin, small;
    switch (upper(cmach)) {
    case 'E': return eps;
    case 'S':
        sfmin = FLT_MIN;
        small = 1.0f / FLT_MAX;
        if (small >= sfmin) sfmin = small * (1.0f + eps);
        return sfmin;
    case 'B': return FLT_RADIX;
    case 'P': return eps * FLT_RADIX;
    case 'N': return FLT_MANT_DIG;
    case 'R': return 1.0f;
    case 'M': return FLT_MIN_EXP;
    case 'U': return FLT_MIN;
    case 'L': return FLT_MAX_EXP;
    case 'O': return FLT_MAX;
    default: return 0.0f;
    }
}

/* the sum through memory, so that a compiler keeping registers wider than the type cannot change it */
doublereal dlamc3_(doublereal *a, doublereal *b)
{
    volatile double s = *a + *b;
    return s;
}

real slamc3_(real *a, real *b)
{
    volatile float s = *a + *b;
    return s;
}

/* LWORK as a floating-point workspace size, rounded up so that INT() of it is not below LWORK */
doublereal droundup_lwork_(integer *lwork)
{
    double r = (double)*lwork;
    if ((integer)r < *lwork) r *= 1.0 + DBL_EPSILON;
    return r;
}

real sroundup_lwork_(integer *lwork)
{
    float r = (float)*lwork;
    if ((integer)r < *lwork) r *= 1.0f + FLT_EPSILON;
    return r;
}

real second_(void)
{
    return (real)clock() / CLOCKS_PER_SEC;
}

doublereal dsecnd_(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}
