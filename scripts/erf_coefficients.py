#!/usr/bin/env python3
"""Prints the erf_table of Sources/CKernels/elementwise.c and its sampled float32 error.

erf on [0, 4) is split into 8 intervals of width 0.5; on interval i, erf(c_i + t) with
c_i = 0.25 + 0.5*i and |t| <= 0.25 is the degree-7 Chebyshev interpolant, converted to powers
of t and rounded to float32. Row d of the table holds the t^d coefficients of all 8 intervals.
Needs NumPy only.
"""
import math
import re

import numpy as np
from numpy.polynomial import chebyshev

WIDTH, INTERVALS, DEGREE = 0.5, 8, 7
erf = np.vectorize(math.erf)


def hexf(v):
    text = float(v).hex()  # e.g. 0x1.1af54e0000000p-2
    text = re.sub(r"\.?0+p", "p", text)
    return text + "f"


def main():
    table = np.zeros((DEGREE + 1, INTERVALS), dtype=np.float32)
    worst = 0.0
    for i in range(INTERVALS):
        center = WIDTH * i + WIDTH / 2
        cheb = chebyshev.chebinterpolate(lambda u: erf(center + u * WIDTH / 2), DEGREE)
        coefficients = (chebyshev.cheb2poly(cheb) / (WIDTH / 2) ** np.arange(DEGREE + 1)).astype(np.float32)
        table[:, i] = coefficients
        # Horner in float32 with one rounding per step, as the FMA code does.
        t = np.linspace(-WIDTH / 2, WIDTH / 2, 40001).astype(np.float32)
        acc = np.full_like(t, coefficients[-1])
        for c in coefficients[-2::-1]:
            acc = (acc.astype(np.float64) * t + c).astype(np.float32)
        worst = max(worst, float(np.max(np.abs(acc - erf(center + t.astype(np.float64))))))
    print(f"// sampled absolute error {worst:.3g} = {worst * 2**24:.3f} * 2^-24")
    for row in table:
        print("    {" + ", ".join(hexf(v) for v in row) + "},")


if __name__ == "__main__":
    main()
