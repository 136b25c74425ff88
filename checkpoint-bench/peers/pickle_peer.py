"""The classic way Python programs checkpoint by hand: pickle the state
after every iteration, overwriting one file in place, and load it at start.

    python3 pickle_peer.py primes|factorial N DIR

Prints the seconds the checkpointed loop took (interpreter start-up
excluded), so the Rust benches compare like with like.
"""

import os
import pickle
import sys
import time


def primes(n, path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            found, candidate = pickle.load(f)
    else:
        found, candidate = [2], 2
    while len(found) < n:
        candidate += 1
        is_prime = True
        for p in found:
            if p * p > candidate:
                break
            if candidate % p == 0:
                is_prime = False
                break
        if is_prime:
            found.append(candidate)
        with open(path, "wb") as f:
            pickle.dump((found, candidate), f)
    os.remove(path)
    return found[-1]


def factorial(n, path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            following, product = pickle.load(f)
    else:
        following, product = 1, 1
    while following <= n:
        product *= following
        following += 1
        with open(path, "wb") as f:
            pickle.dump((following, product), f)
    os.remove(path)
    return product


def main():
    workload, n, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    run = {"primes": primes, "factorial": factorial}[workload]
    path = os.path.join(directory, workload + ".pickle")
    began = time.perf_counter()
    run(n, path)
    print(f"{time.perf_counter() - began:.6f}")


if __name__ == "__main__":
    main()
