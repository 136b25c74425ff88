#!/usr/bin/env bash
# A new user's first crate, made with the README's two `cargo add` lines
# and nothing else: a fresh `cargo new`, checkpoint-core from this
# repository by git (its committed HEAD), serde for a derived state type.
# It must build, run, resume after a SIGKILL and pass `verify`.
#
#   scripts/new-crate.sh            (run by .ci/run)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Reuse the workspace's build of the registry crates; the git checkout of
# checkpoint-core is built afresh.
export CARGO_TARGET_DIR="$repo/target/new-crate"

cd "$work"
cargo new --quiet walker
cd walker
cargo add --quiet checkpoint-core --git "file://$repo"
cargo add --quiet serde --features derive
cat > src/main.rs <<'RUST'
use checkpoint_core::checkpointed;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Walker {
    position: i64,
    steps: u64,
}

#[checkpointed(every = "50ms", key = (n))]
fn walk(n: u64, delay_ms: u64) -> Walker {
    #[state]
    let mut walker = Walker { position: 0, steps: 0 };
    for i in 0..n {
        walker.position += if i % 3 == 0 { -1 } else { 2 };
        walker.steps += 1;
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    }
    walker
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    if args.is_empty() {
        println!("{}", checkpoint_core::verify(|| walk(200, 0)));
    } else {
        println!("{:?}", walk(args[0], args[1]));
    }
}
RUST
cargo build --quiet
bin="$CARGO_TARGET_DIR/debug/walker"
expected='Walker { position: 300, steps: 300 }'

"$bin" 300 10 > out.txt 2> err.txt &
pid=$!
for _ in $(seq 1 300); do
    if compgen -G ".checkpoints/*.ckpt" >/dev/null; then break; fi
    sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
compgen -G ".checkpoints/*.ckpt" >/dev/null || { echo "new-crate: no checkpoint before the kill" >&2; cat err.txt >&2; exit 1; }
"$bin" 300 0 > out.txt 2> err.txt
grep -q "checkpoint: resumed" err.txt || { echo "new-crate: the rerun did not resume" >&2; cat err.txt >&2; exit 1; }
[ "$(tail -n 1 out.txt)" = "$expected" ] || { echo "new-crate: got $(tail -n 1 out.txt), expected $expected" >&2; exit 1; }
"$bin" > verify.txt
grep -q "returned the uninterrupted result" verify.txt || { cat verify.txt >&2; exit 1; }
echo "new-crate: a fresh crate made with the README's lines resumes after kill -9 and passes verify: $(cat verify.txt)"
