/* nbody: gravitational N-body simulation (double-precision float kernel).
 *
 * One heavy central body and BODIES-1 light bodies on roughly circular,
 * well-separated orbits (generated from a fixed seed), integrated with a
 * symplectic Euler scheme.  Uses only + - * / and sqrt, which are
 * correctly rounded everywhere, and disables FMA contraction, so native and
 * wasm builds compute bit-identical results; the checksum is still taken
 * from energies rounded to 1e-12 and positions rounded to 1e-6 to tolerate a contracting native compiler.
 *
 * Usage: nbody [STEPS]   (default STEPS = 5000000)
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BODIES 9

typedef struct { double x, y, z, vx, vy, vz, m; } Body;

static uint32_t seed = 0xC0FFEEu;
static double unit_rand(void) { /* [0, 1) with 24 bits */
    seed = seed * 1103515245u + 12345u;
    return (double)(seed >> 8) / 16777216.0;
}

static double energy(const Body *b) {
    double e = 0.0;
    for (int i = 0; i < BODIES; i++) {
        e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < BODIES; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void advance(Body *b, double dt) {
    for (int i = 0; i < BODIES; i++) {
        for (int j = i + 1; j < BODIES; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            double mi = b[i].m * mag, mj = b[j].m * mag;
            b[i].vx -= dx * mj; b[i].vy -= dy * mj; b[i].vz -= dz * mj;
            b[j].vx += dx * mi; b[j].vy += dy * mi; b[j].vz += dz * mi;
        }
    }
    for (int i = 0; i < BODIES; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

int main(int argc, char **argv) {
    long steps = argc > 1 ? atol(argv[1]) : 5000000L;
    Body b[BODIES];
    const double G_M = 40.0; /* mass of the central body (G = 1) */
    b[0] = (Body){0, 0, 0, 0, 0, 0, G_M};
    for (int i = 1; i < BODIES; i++) {
        double r = 2.0 + 2.5 * i + unit_rand();
        /* A point on the unit circle from a rational parametrisation, so no
         * libm trigonometry (whose last bit may differ between libcs) is used. */
        double t = 2.0 * unit_rand() - 1.0;
        double cph = (1.0 - t * t) / (1.0 + t * t), sph = 2.0 * t / (1.0 + t * t);
        if (unit_rand() < 0.5) { cph = -cph; sph = -sph; }
        double incl = 0.05 * (unit_rand() - 0.5);
        double v = sqrt(G_M / r);
        b[i].x = r * cph;
        b[i].y = r * sph;
        b[i].z = r * incl;
        b[i].vx = -v * sph;
        b[i].vy = v * cph;
        b[i].vz = 0.0;
        b[i].m = 0.00001 + 0.0001 * unit_rand();
    }
    /* Remove the net momentum so the system stays centred. */
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < BODIES; i++) { px += b[i].m * b[i].vx; py += b[i].m * b[i].vy; pz += b[i].m * b[i].vz; }
    b[0].vx = -px / b[0].m; b[0].vy = -py / b[0].m; b[0].vz = -pz / b[0].m;

    double e0 = energy(b);
    for (long s = 0; s < steps; s++) advance(b, 0.001);
    double e1 = energy(b);
    double spread = 0.0;
    for (int i = 0; i < BODIES; i++) spread += fabs(b[i].x) + fabs(b[i].y) + fabs(b[i].z);

    uint64_t checksum = (uint64_t)llround(-e0 * 1e12) * 1000003u;
    checksum ^= (uint64_t)llround(-e1 * 1e12);
    checksum = checksum * 31 + (uint64_t)llround(spread * 1e6);
    printf("nbody: %d bodies, %ld steps, energy %.12f -> %.12f\n", BODIES, steps, e0, e1);
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
