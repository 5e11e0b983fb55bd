//! What a radius or box search looks at, as Redis 7.0's geohash_helper.c
//! computes it: the distances, the shape's bounding box, the hash step
//! fit for its size, and the nine score ranges (a box and its neighbours)
//! that cover it.

use super::hash::{decode, encode, neighbors, Area, HashBits, LAT_RANGE, LONG_RANGE, STEP_MAX};

/// The WGS-84 quadratic mean radius Redis measures with.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

fn deg_rad(angle: f64) -> f64 {
    angle * (std::f64::consts::PI / 180.0)
}

fn rad_deg(angle: f64) -> f64 {
    angle / (std::f64::consts::PI / 180.0)
}

/// Metres between two latitudes on one meridian.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Haversine great-circle distance in metres (geohashGetDistance).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((deg_rad(lon2) - deg_rad(lon1)) / 2.0).sin();
    // The same longitude: the cheaper meridian distance, as Redis does.
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The area searched, in the caller's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extent {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search: its centre (longitude, latitude), extent, and the unit's
/// size in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub longitude: f64,
    pub latitude: f64,
    pub extent: Extent,
    pub to_meters: f64,
}

impl Shape {
    /// The distance in metres from the centre when (longitude, latitude)
    /// is inside the shape (geoWithinShape).
    pub fn distance_if_within(&self, longitude: f64, latitude: f64) -> Option<f64> {
        match self.extent {
            Extent::Radius(radius) => {
                let d = distance(self.longitude, self.latitude, longitude, latitude);
                (d <= radius * self.to_meters).then_some(d)
            }
            Extent::Box { width, height } => {
                // The latitude check is the cheaper one: first.
                if lat_distance(latitude, self.latitude) > height * self.to_meters / 2.0 {
                    return None;
                }
                if distance(longitude, latitude, self.longitude, latitude) > width * self.to_meters / 2.0 {
                    return None;
                }
                Some(distance(self.longitude, self.latitude, longitude, latitude))
            }
        }
    }

    /// Half the extent in metres: (height, width) for the bounding box.
    fn half_extent(&self) -> (f64, f64) {
        match self.extent {
            Extent::Radius(r) => (r * self.to_meters, r * self.to_meters),
            Extent::Box { width, height } => (height / 2.0 * self.to_meters, width / 2.0 * self.to_meters),
        }
    }

    /// The distance from the centre to the farthest corner, in metres.
    fn reach(&self) -> f64 {
        let reach = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
        };
        reach * self.to_meters
    }

    /// geohashBoundingBox: min longitude, min latitude, max longitude, max
    /// latitude. Meridians converge, so the longitude span is taken at the
    /// edge nearer the pole.
    fn bounding_box(&self) -> [f64; 4] {
        let (height, width) = self.half_extent();
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.latitude + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.latitude - lat_delta).cos());
        let long_delta = if self.latitude < 0.0 { long_delta_bottom } else { long_delta_top };
        [self.longitude - long_delta, self.latitude - lat_delta, self.longitude + long_delta, self.latitude + lat_delta]
    }

    /// The score ranges (min inclusive, max exclusive) to scan, in Redis's
    /// order: the centre box, then north, south, east, west, north-east,
    /// north-west, south-east, south-west, leaving out the boxes the shape
    /// does not reach and one equal to the box scanned just before it.
    pub fn score_ranges(&self) -> Vec<(f64, f64)> {
        let boxes = self.search_boxes();
        let mut ranges = Vec::with_capacity(boxes.len());
        let mut last: Option<HashBits> = None;
        for (i, hash) in boxes.into_iter().enumerate() {
            if hash.is_zero() {
                continue;
            }
            // Redis compares with the last scanned box only once that is
            // a neighbour (its index 0 reads as "none yet").
            if i > 0 && last == Some(hash) {
                continue;
            }
            let min = hash.align52();
            let max = HashBits { bits: hash.bits + 1, step: hash.step }.align52();
            ranges.push((min as f64, max as f64));
            if i > 0 {
                last = Some(hash);
            }
        }
        ranges
    }

    /// geohashCalculateAreasByShapeWGS84: the centre's box at a step fit
    /// for the shape's size, and its neighbours, zeroed where useless.
    fn search_boxes(&self) -> [HashBits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let mut steps = estimate_steps(self.reach(), self.latitude);
        let at_step = |steps: u8| {
            // The centre was checked against the limits when parsed.
            let hash = encode(LONG_RANGE, LAT_RANGE, self.longitude, self.latitude, steps).unwrap_or_default();
            (hash, neighbors(hash), decode(LONG_RANGE, LAT_RANGE, hash))
        };
        let (mut hash, mut around, mut area) = at_step(steps);
        // Near a box's edge the estimated step may leave part of the shape
        // outside the nine boxes: one step coarser then.
        let [north, south, east, west, ..] = around.map(|h| decode(LONG_RANGE, LAT_RANGE, h));
        let too_small = north.latitude.max < max_lat
            || south.latitude.min > min_lat
            || east.longitude.max < max_lon
            || west.longitude.min > min_lon;
        if steps > 1 && too_small {
            steps -= 1;
            (hash, around, area) = at_step(steps);
        }
        if steps >= 2 {
            drop_unreached(&mut around, &area, [min_lon, min_lat, max_lon, max_lat]);
        }
        let mut boxes = [hash; 9];
        boxes[1..].copy_from_slice(&around);
        boxes
    }
}

/// Zeroes the neighbours on a side of `area` that the bounding box does not
/// cross (Redis's "exclude the search areas that are useless").
fn drop_unreached(around: &mut [HashBits; 8], area: &Area, [min_lon, min_lat, max_lon, max_lat]: [f64; 4]) {
    const NORTH: usize = 0;
    const SOUTH: usize = 1;
    const EAST: usize = 2;
    const WEST: usize = 3;
    const NORTH_EAST: usize = 4;
    const NORTH_WEST: usize = 5;
    const SOUTH_EAST: usize = 6;
    const SOUTH_WEST: usize = 7;
    let mut zero = |sides: [usize; 3]| sides.iter().for_each(|&i| around[i] = HashBits::default());
    if area.latitude.min < min_lat {
        zero([SOUTH, SOUTH_WEST, SOUTH_EAST]);
    }
    if area.latitude.max > max_lat {
        zero([NORTH, NORTH_EAST, NORTH_WEST]);
    }
    if area.longitude.min < min_lon {
        zero([WEST, SOUTH_WEST, NORTH_WEST]);
    }
    if area.longitude.max > max_lon {
        zero([EAST, SOUTH_EAST, NORTH_EAST]);
    }
}

/// geohashEstimateStepsByRadius: the finest step whose boxes still hold
/// `range_meters`, coarser towards the poles.
fn estimate_steps(range_meters: f64, latitude: f64) -> u8 {
    if range_meters == 0.0 {
        return STEP_MAX;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    // Bounded: a finite positive range doubles past the limit within ~1100 rounds.
    while range < MERCATOR_MAX && step < 2000 {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&latitude) {
        step -= 1;
        if !(-80.0..=80.0).contains(&latitude) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::hash::{decode_score, encode_score};

    #[test]
    fn distances_match_redis() {
        // redis-server 7.0: GEODIST of Palermo and Catania is 166274.1516 m.
        let (lon1, lat1) = decode_score(encode_score(13.361389, 38.115556).unwrap() as f64);
        let (lon2, lat2) = decode_score(encode_score(15.087269, 37.502669).unwrap() as f64);
        assert_eq!(format!("{:.4}", distance(lon1, lat1, lon2, lat2)), "166274.1516");
        assert_eq!(distance(10.0, 1.0, 10.0, 2.0), lat_distance(1.0, 2.0));
        assert_eq!(distance(10.0, 1.0, 10.0, 1.0), 0.0);
    }

    #[test]
    fn steps_shrink_with_range_and_latitude() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1.0, 0.0), 24);
        assert_eq!(estimate_steps(5000.0, 0.0), 11);
        assert_eq!(estimate_steps(5000.0, 70.0), 10);
        assert_eq!(estimate_steps(5000.0, -85.0), 9);
        assert_eq!(estimate_steps(1e9, 0.0), 1);
        assert_eq!(estimate_steps(f64::MIN_POSITIVE, 0.0), 26);
    }

    fn shape(extent: Extent) -> Shape {
        Shape { longitude: 13.361389, latitude: 38.115556, extent, to_meters: 1000.0 }
    }

    #[test]
    fn shapes_hold_what_is_inside_only() {
        let radius = shape(Extent::Radius(200.0));
        let d = radius.distance_if_within(15.087269, 37.502669).expect("Catania is 166 km away");
        assert!((d - 166274.15).abs() < 1.0);
        assert_eq!(shape(Extent::Radius(100.0)).distance_if_within(15.087269, 37.502669), None);
        // Catania is 150 km east and 68 km south of Palermo.
        let wide = shape(Extent::Box { width: 400.0, height: 150.0 });
        assert!(wide.distance_if_within(15.087269, 37.502669).is_some());
        let narrow = shape(Extent::Box { width: 400.0, height: 100.0 });
        assert_eq!(narrow.distance_if_within(15.087269, 37.502669), None);
        let thin = shape(Extent::Box { width: 200.0, height: 400.0 });
        assert_eq!(thin.distance_if_within(15.087269, 37.502669), None);
    }

    #[test]
    fn score_ranges_cover_the_shape() {
        // Every point of a grid inside the shape lies in one of the ranges.
        for extent in [Extent::Radius(50.0), Extent::Box { width: 80.0, height: 30.0 }, Extent::Radius(6000.0)] {
            let s = shape(extent);
            let ranges = s.score_ranges();
            assert!(!ranges.is_empty() && ranges.len() <= 9);
            for i in -40..=40 {
                for j in -40..=40 {
                    let (lon, lat) = (s.longitude + f64::from(i) * 0.9, s.latitude + f64::from(j) * 0.5);
                    let Some(score) = encode_score(lon, lat) else { continue };
                    let (dlon, dlat) = decode_score(score as f64);
                    if s.distance_if_within(dlon, dlat).is_some() {
                        let score = score as f64;
                        assert!(ranges.iter().any(|&(lo, hi)| lo <= score && score < hi), "{extent:?} {lon},{lat}");
                    }
                }
            }
        }
    }
}
