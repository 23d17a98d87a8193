// The kernels of bench/async-interrupt.js. A thread started with asyncInterrupt loads this file
// twice: as a file (instrumented, as a thread's own module is) and as a data: URL (which the load
// hook leaves alone), so both copies run in the same thread, on the same data, in the same run.
// Self-contained: a data: module cannot import.

export function nested(n, m) {
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) s = (s + i * j) | 0;
  }
  return s;
}

const A = new Float64Array(4096).map((_, i) => (i % 97) * 0.5);
const B = new Float64Array(4096).map((_, i) => 1 / (i + 1));

export function dot(reps) {
  let s = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < A.length; i++) s += A[i] * B[i];
  }
  return s;
}

export function collatz(limit) {
  let steps = 0;
  for (let x = 1; x < limit; x++) {
    let v = x;
    while (v !== 1) {
      v = v & 1 ? 3 * v + 1 : v / 2;
      steps++;
    }
  }
  return steps;
}

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export function recursion(n) {
  return fib(n);
}

const UNSORTED = Float64Array.from({ length: 50_000 }, (_, i) => ((i * 2654435761) % 1000003) / 7);

function quicksort(a, lo, hi) {
  while (hi - lo > 16) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

export function sort(reps) {
  let check = 0;
  for (let r = 0; r < reps; r++) {
    const a = UNSORTED.slice();
    quicksort(a, 0, a.length - 1);
    const b = Array.from(UNSORTED.subarray(0, 5000));
    b.sort((x, y) => x - y);
    check += a[100] + b[100];
  }
  return check;
}

export function strings(n) {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += String.fromCharCode(97 + (i % 26));
    if (s.length > 4096) s = s.slice(2048);
  }
  return s.length;
}

export function sieve(n) {
  const composite = new Uint8Array(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (composite[i] === 0) {
      count++;
      for (let j = i * i; j <= n; j += i) composite[j] = 1;
    }
  }
  return count;
}

const N = 96;
const MA = new Float64Array(N * N).map((_, i) => (i % 13) - 6);
const MB = new Float64Array(N * N).map((_, i) => (i % 7) - 3);
const MC = new Float64Array(N * N);

export function matmul(reps) {
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < N; k++) s += MA[i * N + k] * MB[k * N + j];
        MC[i * N + j] = s;
      }
    }
  }
  return MC[5];
}

const POINTS = Array.from({ length: 4096 }, (_, i) => ({ x: i % 17, y: i % 29 }));

export function forOf(reps) {
  let s = 0;
  for (let r = 0; r < reps; r++) {
    for (const p of POINTS) s += p.x * p.y;
  }
  return s;
}

const RECORD = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, i]));

export function forIn(reps) {
  let s = 0;
  for (let r = 0; r < reps; r++) {
    for (const key in RECORD) s += RECORD[key];
  }
  return s;
}

// A function with a loop of its own, called from a loop: both are checked.
function digitSum(v) {
  let s = 0;
  while (v > 0) {
    s += v % 10;
    v = (v / 10) | 0;
  }
  return s;
}

export function calls(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += digitSum(i);
  return s;
}

/** The kernels and the argument each timed run takes (a few ms each here). */
export const kernels = {
  nested: [3000, 1000],
  dot: [1000],
  collatz: [60_000],
  recursion: [25],
  sort: [4],
  strings: [2_000_000],
  sieve: [2_000_000],
  matmul: [8],
  forOf: [600],
  forIn: [30_000],
  calls: [400_000],
};

/**
 * Runs `name` over and over until an interrupt lands in it, `times` times: after each, writes
 * the clock into `stamps[sample]` and clears the flag, and the main thread sends the next.
 * sync[0]: samples taken; sync[1]: 1 while spinning.
 */
export function spin(name, times, sync, stamps, clearInterrupt) {
  const args = kernels[name];
  const fn = { nested, dot, collatz, recursion, sort, strings, sieve, matmul, forOf, forIn, calls }[name];
  for (let sample = 0; sample < times; sample++) {
    try {
      Atomics.store(sync, 1, 1);
      Atomics.notify(sync, 1);
      for (;;) fn(...args);
    } catch (error) {
      stamps[sample] = process.hrtime.bigint();
      if (error?.code !== 'ERR_THREAD_INTERRUPTED') throw error;
    }
    Atomics.store(sync, 1, 0);
    clearInterrupt();
    Atomics.store(sync, 0, sample + 1);
    Atomics.notify(sync, 0);
  }
}
