/* A C caller of libopenblas.so as packages write them: CBLAS through cblas.h, BLAS and LAPACK through
 * the declarations C code writes for Fortran routines (scipy's cython_lapack, numpy's umath_linalg:
 * void, trailing underscore, no hidden length for a CHARACTER*1 argument). build.sh links it against
 * the library and fails on any signature wasm-ld finds disagreeing; the recipe's test calls the same
 * routines through ctypes. */
#include <cblas.h>

void dgesv_(int *n, int *nrhs, double *a, int *lda, int *ipiv, double *b, int *ldb, int *info);
void dgesdd_(char *jobz, int *m, int *n, double *a, int *lda, double *s, double *u, int *ldu, double *vt,
             int *ldvt, double *work, int *lwork, int *iwork, int *info);
void dsyevd_(char *jobz, char *uplo, int *n, double *a, int *lda, double *w, double *work, int *lwork,
             int *iwork, int *liwork, int *info);
void dgemm_(char *transa, char *transb, int *m, int *n, int *k, double *alpha, double *a, int *lda,
            double *b, int *ldb, double *beta, double *c, int *ldc);
double dlamch_(char *cmach);
int ilaenv_(int *ispec, char *name, char *opts, int *n1, int *n2, int *n3, int *n4, int name_len, int opts_len);
void xerbla_(char *srname, int *info, int srname_len);

/* C = A B (2x2, row-major) through CBLAS, then A x = b through LAPACK: returns 0 when both are right */
int cblas_check(void)
{
    double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0};
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2);
    if (c[0] != 19 || c[1] != 22 || c[2] != 43 || c[3] != 50) return 1;
    double m[4] = {2, 1, 1, 3};  /* column-major [[2, 1], [1, 3]] */
    double rhs[2] = {3, 5};      /* x = [0.8, 1.4] */
    int n = 2, one = 1, ipiv[2], info = -99;
    dgesv_(&n, &one, m, &n, ipiv, rhs, &n, &info);
    if (info != 0) return 2;
    double e0 = rhs[0] - 0.8, e1 = rhs[1] - 1.4;
    return (e0 * e0 + e1 * e1 < 1e-24) ? 0 : 3;
}

/* the other routines' addresses, so that the link checks their signatures too */
void *cblas_check_refs[] = {(void *)dgesdd_, (void *)dsyevd_, (void *)dgemm_, (void *)dlamch_, (void *)ilaenv_,
                            (void *)xerbla_};
