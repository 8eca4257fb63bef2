//! What the benchmarks share: a deterministic generator and a Zipf-like vocabulary, so every
//! corpus is the same on every machine (the shape of ../shared/corpus/gen_words.py).

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` distinct lowercase pseudo-words with Zipf weights 1/rank (frequent words are shorter,
/// as in natural text).
pub struct Zipf {
    pub words: Vec<String>,
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(rng: &mut Rng, n: usize) -> Zipf {
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(n);
        while words.len() < n {
            let rank = words.len() + 1;
            let len = 2 + (rank as f64).log10() as usize + (rng.next() % 4) as usize;
            let w: String = (0..len).map(|_| (b'a' + (rng.next() % 26) as u8) as char).collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut acc = 0.0;
        let cdf = (1..=n)
            .map(|r| {
                acc += 1.0 / r as f64;
                acc
            })
            .collect();
        Zipf { words, cdf }
    }

    /// A word drawn with the Zipf weights.
    pub fn sample(&self, rng: &mut Rng) -> &str {
        let total = self.cdf.last().copied().unwrap_or(0.0);
        let x = rng.unit() * total;
        &self.words[self.cdf.partition_point(|&c| c < x).min(self.words.len() - 1)]
    }
}
