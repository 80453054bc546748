"""libopenblas.so in CPython-in-wasm through ctypes: BLAS (dgemm_), CBLAS (cblas_dgemm) and the LAPACK
routines scipy.linalg leans on (dgesv_, dgesdd_ for svd, dsyevd_ for eigh, zheevd_, dpotrf_, dgeqrf_,
dgetrf_/dgetri_, dgeev_) give the right numbers, with the library's ABI: void subroutines, arguments by
reference, no hidden length for a CHARACTER*1 argument, hidden lengths for CHARACTER*(*) ones (ilaenv_,
xerbla_). Matrices are column-major (Fortran order). No numpy: the checks are plain Python."""

import ctypes as C
import math
import os
from collections.abc import Sequence

LIB = os.path.join(os.environ["PREFIX"], "lib")
blas = C.CDLL(os.path.join(LIB, "libopenblas.so"))
I, D = C.c_int, C.c_double  # noqa: E741


def dbl(*xs: float) -> C.Array:
    return (D * len(xs))(*xs)


def ints(n: int) -> C.Array:
    return (I * n)()


def byref(*xs: C._SimpleCData) -> list:
    return [C.byref(x) for x in xs]


def close(a: Sequence[float], b: Sequence[float], tol: float = 1e-12) -> None:
    assert len(a) == len(b), (list(a), list(b))
    assert all(abs(x - y) <= tol * max(1.0, abs(y)) for x, y in zip(a, b)), (list(a), list(b))


def colmajor(rows: list[list[float]]) -> C.Array:
    """[[r0c0, r0c1, ...], ...] as a column-major array."""
    return dbl(*[rows[i][j] for j in range(len(rows[0])) for i in range(len(rows))])


def matmul(a: Sequence[float], b: Sequence[float], m: int, k: int, n: int) -> list[float]:
    """column-major m x k times k x n, in Python"""
    return [sum(a[i + p * m] * b[p + j * k] for p in range(k)) for j in range(n) for i in range(m)]


for sym in ("dgemm_", "cblas_dgemm", "dgesv_", "dgesdd_", "dsyevd_", "zheevd_", "dgges_", "dggev_", "dgesvd_",
            "dgeqp3rk_", "ilaenv_", "dlamch_", "xerbla_", "lsame_", "openblas_get_config"):
    assert hasattr(blas, sym), sym
for sym in ("dgges3_", "dlaqz0_", "dgesvdx_"):  # omitted: Fortran 90 (recipe.yaml, lapack-omitted.txt)
    assert not hasattr(blas, sym), sym
blas.openblas_get_config.restype = C.c_char_p
print(blas.openblas_get_config().decode())

# dgemm_: C = 2 A B + C with A 2x3, B 3x2
a = colmajor([[1, 2, 3], [4, 5, 6]])
b = colmajor([[7, 8], [9, 10], [11, 12]])
c = colmajor([[1, 1], [1, 1]])
m, n, k, lda, ldb, ldc = I(2), I(2), I(3), I(2), I(3), I(2)
blas.dgemm_(b"N", b"N", *byref(m, n, k, D(2.0)), a, C.byref(lda), b, C.byref(ldb), C.byref(D(1.0)), c,
            C.byref(ldc))
close(c, [117.0, 279.0, 129.0, 309.0])  # 2*[[58, 64], [139, 154]] + 1, column-major

# cblas_dgemm, row-major
CblasRowMajor, CblasNoTrans = 101, 111
ra, rb, rc = dbl(1, 2, 3, 4), dbl(5, 6, 7, 8), dbl(0, 0, 0, 0)
blas.cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, D(1.0), ra, 2, rb, 2, D(0.0), rc, 2)
close(rc, [19.0, 22.0, 43.0, 50.0])

# drotg_ (OpenBLAS computes it in long double: compiler-rt's f128 helpers come from Pyodide's main
# module) and zdotc_ (a complex result: returned through a hidden first argument, as f2c's callers expect)
ra, rb, rc, rs = D(3.0), D(4.0), D(), D()
blas.drotg_(*byref(ra, rb, rc, rs))
close([ra.value, rc.value, rs.value], [5.0, 0.6, 0.8])
zx, zy, zres = dbl(1, 2, 3, 4), dbl(5, 6, 7, 8), (D * 2)()
blas.zdotc_(zres, C.byref(I(2)), zx, C.byref(I(1)), zy, C.byref(I(1)))
close(zres, [70.0, -8.0])  # conj(1+2i)(5+6i) + conj(3+4i)(7+8i)

# dgesv_: A x = b, x = [1, -2, 3]
A = [[4, -2, 1], [3, 6, -4], [2, 1, 8]]
x = [1, -2, 3]
rhs = dbl(*[sum(A[i][j] * x[j] for j in range(3)) for i in range(3)])
n, nrhs, info, ipiv = I(3), I(1), I(-99), ints(3)
blas.dgesv_(C.byref(n), C.byref(nrhs), colmajor(A), C.byref(n), ipiv, rhs, C.byref(n), C.byref(info))
assert info.value == 0, info.value
close(rhs, x)

# xerbla_ through LAPACK: an illegal argument is reported (OpenBLAS's xerbla prints it) and INFO = -1
blas.dgesv_(C.byref(I(-1)), C.byref(nrhs), colmajor(A), C.byref(n), ipiv, rhs, C.byref(n), C.byref(info))
assert info.value == -1, info.value

# dgesdd_ (scipy.linalg.svd): A 3x2, workspace query first (lwork = -1), as scipy does
A = [[1, 2], [3, 4], [5, 6]]
m, n = 3, 2
s, u, vt, iwork, work0 = (D * 2)(), (D * 9)(), (D * 4)(), ints(16), (D * 1)()
info = I(-99)
args = lambda a, work, lwork: (b"A", C.byref(I(m)), C.byref(I(n)), a, C.byref(I(m)), s, u, C.byref(I(m)), vt,  # noqa: E731
                               C.byref(I(n)), work, C.byref(I(lwork)), iwork, C.byref(info))
blas.dgesdd_(*args(colmajor(A), work0, -1))
assert info.value == 0 and work0[0] >= 1, (info.value, work0[0])
lwork = int(work0[0])
blas.dgesdd_(*args(colmajor(A), (D * lwork)(), lwork))
assert info.value == 0, info.value
# singular values of [[1,2],[3,4],[5,6]]: sqrt of the eigenvalues of A^T A = [[35, 44], [44, 56]]
tr, det = 91.0, 35.0 * 56.0 - 44.0 * 44.0
close(s, [math.sqrt((tr + math.sqrt(tr * tr - 4 * det)) / 2), math.sqrt((tr - math.sqrt(tr * tr - 4 * det)) / 2)])
# U[:, :2] diag(s) VT reproduces A
us = [u[i + j * 3] * s[j] for j in range(2) for i in range(3)]
close(matmul(us, vt, 3, 2, 2), list(colmajor(A)), 1e-12)

# dsyevd_ (scipy.linalg.eigh): tridiagonal [[2,-1,0],[-1,2,-1],[0,-1,2]]: 2 - sqrt2, 2, 2 + sqrt2
S = [[2, -1, 0], [-1, 2, -1], [0, -1, 2]]
w, work0, iwork0 = (D * 3)(), (D * 1)(), ints(1)
a = colmajor(S)
eargs = lambda work, lwork, iw, liwork: (b"V", b"L", C.byref(I(3)), a, C.byref(I(3)), w, work,  # noqa: E731
                                         C.byref(I(lwork)), iw, C.byref(I(liwork)), C.byref(info))
blas.dsyevd_(*eargs(work0, -1, iwork0, -1))
assert info.value == 0, info.value
lwork, liwork = int(work0[0]), iwork0[0]
blas.dsyevd_(*eargs((D * lwork)(), lwork, ints(liwork), liwork))
assert info.value == 0, info.value
close(w, [2 - math.sqrt(2), 2.0, 2 + math.sqrt(2)])
for j in range(3):  # S v = w v for each eigenvector (the columns of a)
    v = [a[i + 3 * j] for i in range(3)]
    close([sum(S[i][p] * v[p] for p in range(3)) for i in range(3)], [w[j] * vi for vi in v], 1e-12)

# zheevd_: Hermitian [[2, 1j], [-1j, 2]]: eigenvalues 1 and 3
Z = (D * 8)(2, 0, 0, -1, 0, 1, 2, 0)  # column-major complex: (0,0)=2, (1,0)=-1j, (0,1)=1j, (1,1)=2
w = (D * 2)()
blas.zheevd_(b"N", b"U", C.byref(I(2)), Z, C.byref(I(2)), w, (D * 16)(), C.byref(I(8)), (D * 8)(), C.byref(I(8)),
             ints(8), C.byref(I(8)), C.byref(info))
assert info.value == 0, info.value
close(w, [1.0, 3.0])

# dpotrf_ (Cholesky): [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt2]]
P = colmajor([[4, 2], [2, 3]])
blas.dpotrf_(b"L", C.byref(I(2)), P, C.byref(I(2)), C.byref(info))
assert info.value == 0, info.value
close([P[0], P[1], P[3]], [2.0, 1.0, math.sqrt(2)])

# dgetrf_ + dgetri_: the inverse of [[4, 7], [2, 6]] is [[0.6, -0.7], [-0.2, 0.4]]
G = colmajor([[4, 7], [2, 6]])
ipiv = ints(2)
blas.dgetrf_(C.byref(I(2)), C.byref(I(2)), G, C.byref(I(2)), ipiv, C.byref(info))
assert info.value == 0, info.value
blas.dgetri_(C.byref(I(2)), G, C.byref(I(2)), ipiv, (D * 8)(), C.byref(I(8)), C.byref(info))
assert info.value == 0, info.value
close(G, [0.6, -0.2, -0.7, 0.4])

# dgeqrf_: R's diagonal of [[3, 1], [4, 2]] has |r11| = 5
Q = colmajor([[3, 1], [4, 2]])
blas.dgeqrf_(C.byref(I(2)), C.byref(I(2)), Q, C.byref(I(2)), (D * 2)(), (D * 64)(), C.byref(I(64)), C.byref(info))
assert info.value == 0 and abs(abs(Q[0]) - 5.0) < 1e-12, (info.value, Q[0])

# dgeev_ (libflame's dgebal inside): [[2, 0], [0, -1]] rotated has eigenvalues 2 and -1
E = colmajor([[0.5, 1.5], [1.5, 0.5]])
wr, wi = (D * 2)(), (D * 2)()
blas.dgeev_(b"N", b"N", C.byref(I(2)), E, C.byref(I(2)), wr, wi, (D * 1)(), C.byref(I(1)), (D * 1)(), C.byref(I(1)),
            (D * 64)(), C.byref(I(64)), C.byref(info))
assert info.value == 0, info.value
close(sorted(wr), [-1.0, 2.0])
close(wi, [0.0, 0.0])

# DISNAN (libflame's LAPACK 3.5.0 translation: DLAISNAN(x, x), x != x survives -O2)
blas.disnan_.restype = I
assert blas.disnan_(C.byref(D(float("nan")))) == 1 and blas.disnan_(C.byref(D(1.0))) == 0

# machine parameters and ILAENV (hidden lengths of its CHARACTER*(*) arguments)
blas.dlamch_.restype = D
assert blas.dlamch_(b"E") == 2.0 ** -53 and blas.dlamch_(b"B") == 2.0
blas.ilaenv_.restype = I
nb = blas.ilaenv_(C.byref(I(1)), b"DGETRF", b" ", C.byref(I(100)), C.byref(I(100)), C.byref(I(-1)), C.byref(I(-1)),
                  6, 1)
assert nb == 64, nb
# complex division by zero is IEEE (inf/nan), as gfortran's: libf2c's c_div/z_div would abort() the
# whole interpreter otherwise (scipy's test_gtsvx_error_singular reaches cgtts2_ with a zero pivot)
cq = (C.c_float * 2)()
blas.c_div(cq, (C.c_float * 2)(1.0, 0.0), (C.c_float * 2)(0.0, 0.0))
assert math.isinf(cq[0]) and math.isinf(cq[1]), list(cq)
zq = (D * 2)()
blas.z_div(zq, dbl(0.0, 0.0), dbl(0.0, 0.0))
assert math.isnan(zq[0]) and math.isnan(zq[1]), list(zq)
# cgtsv_ on a singular tridiagonal system reports INFO = 1 instead of dividing by the zero pivot
dl, d, du, cb = (C.c_float * 2)(), (C.c_float * 4)(), (C.c_float * 2)(), (C.c_float * 4)(1, 0, 1, 0)
blas.cgtsv_(C.byref(I(2)), C.byref(I(1)), dl, d, du, cb, C.byref(I(2)), C.byref(info))
assert info.value == 1, info.value

print("libopenblas: dgemm, cblas_dgemm, drotg, zdotc, dgesv, dgesdd, dsyevd, zheevd, dpotrf, dgetrf/dgetri, dgeqrf, dgeev,"
      " complex division by zero OK")
