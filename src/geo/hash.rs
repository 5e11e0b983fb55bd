//! Geohash bits as Redis 7.0 computes them (geohash.c): longitude and
//! latitude scaled to `step` bits each and interleaved, latitude on the
//! even bits. A geo set's score is the 26-step hash shifted to 52 bits.

/// Redis's coordinate limits (EPSG:900913): no geocoding at the poles.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// 26 bits of each coordinate: 52 bits, exact in a double.
pub const STEP_MAX: u8 = 26;

/// A coordinate interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The ranges a geo set's scores are hashed in.
pub const LONG_RANGE: Range = Range { min: LONG_MIN, max: LONG_MAX };
pub const LAT_RANGE: Range = Range { min: LAT_MIN, max: LAT_MAX };

/// A hash of `step` bits per coordinate. All zero marks an unused box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash left-aligned to 52 bits: the first score inside its box.
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

/// The box a hash stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spreads the bits of `x` to the even positions and those of `y` to the
/// odd ones.
fn interleave(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse of `interleave`: even bits in the low half, odd bits in the high.
fn deinterleave(v: u64) -> u64 {
    fn gather(v: u64) -> u64 {
        let mut v = v & 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    gather(v) | (gather(v >> 1) << 32)
}

/// geohashEncode: None outside Redis's limits or the given ranges.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    let outside_limits = !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude);
    let outside_ranges = latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max;
    if outside_limits || outside_ranges {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    // C converts the doubles to uint32_t by truncation.
    Some(HashBits { bits: interleave(lat_offset as u32, long_offset as u32), step })
}

/// The 52-bit score of a point (GEOADD), None outside the limits.
pub fn encode_score(longitude: f64, latitude: f64) -> Option<u64> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, STEP_MAX).map(HashBits::align52)
}

/// geohashDecode: the box of `hash` within the ranges.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Area {
    let separated = deinterleave(hash.bits);
    let lat_cell = separated as u32;
    let long_cell = (separated >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    // `+ 1` wraps in C's uint32_t arithmetic; keep that for stray scores.
    let at = |cell: u32, range: Range, scale: f64| range.min + (f64::from(cell) / cells) * scale;
    Area {
        latitude: Range {
            min: at(lat_cell, lat_range, lat_scale),
            max: at(lat_cell.wrapping_add(1), lat_range, lat_scale),
        },
        longitude: Range {
            min: at(long_cell, long_range, long_scale),
            max: at(long_cell.wrapping_add(1), long_range, long_scale),
        },
    }
}

/// C's `(uint64_t)` conversion of a double as x86-64 code performs it,
/// since any zset score may be read as a geohash: below 2^63 through a
/// signed conversion (negatives wrap), above it offset by 2^63, and 0 for
/// what does not fit.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if score < TWO_63 {
        score as i64 as u64
    } else if score < 2.0 * TWO_63 {
        ((score - TWO_63) as i64 as u64) ^ (1 << 63)
    } else {
        0
    }
}

/// The point (longitude, latitude) a score stands for: the centre of its
/// box, clamped to the limits (decodeGeohash).
pub fn decode_score(score: f64) -> (f64, f64) {
    let area = decode(LONG_RANGE, LAT_RANGE, HashBits { bits: score_bits(score), step: STEP_MAX });
    let longitude = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let latitude = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (longitude, latitude)
}

/// GEOHASH's 11-character standard geohash of a score: the point
/// re-encoded with latitudes -90..90 as the standard wants.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (longitude, latitude) = decode_score(score);
    let standard_lat = Range { min: -90.0, max: 90.0 };
    // A decoded point is within the limits, so this always encodes.
    let bits = encode(LONG_RANGE, standard_lat, longitude, latitude, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    // 52 bits give ten characters; the eleventh is always '0'.
    for (i, c) in out.iter_mut().take(10).enumerate() {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

/// Moves a hash one box east (`d` > 0) or west along the odd bits.
fn move_x(hash: &mut HashBits, d: i8) {
    move_axis(hash, d, 0xaaaa_aaaa_aaaa_aaaa, 0x5555_5555_5555_5555);
}

/// Moves a hash one box north (`d` > 0) or south along the even bits.
fn move_y(hash: &mut HashBits, d: i8) {
    move_axis(hash, d, 0x5555_5555_5555_5555, 0xaaaa_aaaa_aaaa_aaaa);
}

/// Adds ±1 to the coordinate on the `own` bits, carrying across the
/// `other` bits (filled with ones so the carry skips them).
fn move_axis(hash: &mut HashBits, d: i8, own: u64, other: u64) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & own;
    let y = hash.bits & other;
    let zz = other >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= own >> shift;
    hash.bits = x | y;
}

/// The eight boxes around `hash`, in the order Redis searches them after
/// the box itself: north, south, east, west, north-east, north-west,
/// south-east, south-west.
pub fn neighbors(hash: HashBits) -> [HashBits; 8] {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    [moved(0, 1), moved(0, -1), moved(1, 0), moved(-1, 0), moved(1, 1), moved(-1, 1), moved(1, -1), moved(-1, -1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [(0u32, 0u32), (1, 0), (0, 1), (0xFFFF_FFFF, 0x1234_5678), (0xDEAD_BEEF, 0xFFFF_FFFF)] {
            let v = interleave(x, y);
            assert_eq!(deinterleave(v), u64::from(x) | (u64::from(y) << 32));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn scores_match_redis() {
        // Expected scores are redis-server 7.0's GEOADD + ZSCORE.
        assert_eq!(encode_score(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(encode_score(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(encode_score(-180.0, LAT_MIN), Some(0));
        assert_eq!(encode_score(180.1, 0.0), None);
        assert_eq!(encode_score(0.0, 85.06), None);
    }

    #[test]
    fn decodes_to_the_box_centre() {
        let (lon, lat) = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        // Every point comes back within half a box of where it went in.
        for (lon, lat) in [(0.0, 0.0), (-179.9, -85.0), (179.99, 85.05), (2.35, 48.85)] {
            let (dlon, dlat) = decode_score(encode_score(lon, lat).unwrap() as f64);
            assert!((dlon - lon).abs() < 1e-5 && (dlat - lat).abs() < 1e-5, "{lon},{lat} -> {dlon},{dlat}");
        }
    }

    #[test]
    fn stray_scores_decode_like_redis() {
        // Scores no GEOADD makes still decode, clamped to the limits.
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(1e30), 0);
        assert_eq!(score_bits(9_223_372_036_854_775_808.0), 1 << 63);
        let (lon, lat) = decode_score(-1.0);
        assert!((LONG_MIN..=LONG_MAX).contains(&lon));
        assert_eq!(lat, LAT_MAX);
    }

    #[test]
    fn geohash_strings_match_redis() {
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&geohash_string(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn neighbors_surround_the_box() {
        let hash = encode(LONG_RANGE, LAT_RANGE, 10.0, 20.0, 10).unwrap();
        let centre = decode(LONG_RANGE, LAT_RANGE, hash);
        let [north, south, east, west, north_east, _, _, south_west] =
            neighbors(hash).map(|h| decode(LONG_RANGE, LAT_RANGE, h));
        assert_eq!(north.latitude.min, centre.latitude.max);
        assert_eq!(south.latitude.max, centre.latitude.min);
        assert_eq!(east.longitude.min, centre.longitude.max);
        assert_eq!(west.longitude.max, centre.longitude.min);
        assert_eq!((north_east.latitude.min, north_east.longitude.min), (centre.latitude.max, centre.longitude.max));
        assert_eq!((south_west.latitude.max, south_west.longitude.max), (centre.latitude.min, centre.longitude.min));
        assert_eq!(north.longitude, centre.longitude);
    }
}
