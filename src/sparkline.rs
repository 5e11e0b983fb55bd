//! ASCII sparklines as LATENCY GRAPH draws them: `rows` lines of `_o#|`
//! (filled style), then each sample's label written downwards, one
//! character per line, wrapping to a new block every `columns` samples.

const FILL: &[u8] = b"_o#";
/// Blank lines between the graph and the labels.
const LABEL_MARGIN: usize = 1;

/// Appends the graph of `samples` (value, label; "" for none) to `out`.
pub fn render(out: &mut String, samples: &[(f64, String)], columns: usize, rows: usize) {
    let min = samples.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let max = samples.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    let range = if max > min { max - min } else { 1.0 };
    let labelled = samples.iter().any(|s| !s.1.is_empty());
    for (n, block) in samples.chunks(columns.max(1)).enumerate() {
        if n > 0 {
            out.push('\n');
        }
        render_block(out, block, min, range, rows, labelled);
    }
}

fn render_block(out: &mut String, block: &[(f64, String)], min: f64, range: f64, rows: usize, labelled: bool) {
    let steps = FILL.len() * rows;
    // How high each sample reaches, in character steps.
    let heights: Vec<usize> = block
        .iter()
        .map(|(v, _)| ((((v - min) * steps as f64) as i64) as f64 / range) as usize)
        .map(|h| h.min(steps - 1))
        .collect();
    for row in 0.. {
        let mut line = vec![b' '; block.len()];
        let mut any = false;
        if row < rows {
            any = true;
            let floor = (rows - row - 1) * FILL.len();
            for (c, &h) in line.iter_mut().zip(&heights) {
                if h >= floor + FILL.len() {
                    *c = b'|';
                } else if h >= floor {
                    *c = FILL[h - floor];
                }
            }
        } else if !labelled {
            break;
        } else if row - rows < LABEL_MARGIN {
            any = true;
        } else {
            let at = row - rows - LABEL_MARGIN;
            for (c, (_, label)) in line.iter_mut().zip(block) {
                if let Some(&b) = label.as_bytes().get(at) {
                    *c = b;
                    any = true;
                }
            }
        }
        if !any {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&line));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_rising_samples_with_their_labels() {
        let samples: Vec<(f64, String)> =
            [(0.0, "9s"), (50.0, "5s"), (100.0, "1s")].iter().map(|(v, l)| (*v, l.to_string())).collect();
        let mut out = String::new();
        render(&mut out, &samples, 80, 4);
        // Redis 7.0.15's LATENCY GRAPH draws the same three samples so.
        assert_eq!(out, "  #\n _|\n ||\n_||\n   \n951\nsss\n");
    }

    #[test]
    fn wraps_every_columns_samples() {
        let samples: Vec<(f64, String)> = (0..5).map(|i| (i as f64, String::new())).collect();
        let mut out = String::new();
        render(&mut out, &samples, 3, 2);
        let blocks: Vec<&str> = out.split("\n\n").collect();
        assert_eq!(blocks.len(), 2, "{out}");
        assert!(blocks[0].lines().all(|l| l.len() == 3));
        assert!(blocks[1].lines().all(|l| l.len() == 2));
    }
}
