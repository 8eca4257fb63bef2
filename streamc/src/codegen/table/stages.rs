//! A later stage of a query (`table::stages`): its loop runs over the rows the stage before it
//! emitted in this batch, and its watermark follows that stage's (Spark's per-operator
//! watermark propagation).

use super::row::row_scope;
use super::scope::ident;
use crate::codegen::emit::rt;
use crate::table::{Checked, Evict, Feed, TStep};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// The stage before a later one, as its code sees it.
pub(super) struct Upstream<'a> {
    pub q: &'a Checked,
    /// Whether the query has a watermark (then every stage has its watermark variable).
    pub watermarked: bool,
}

/// The later stage's watermark for this batch: the one before it passed through `feed` (for
/// this batch and, for late rows, the previous one).
pub(super) fn view(q: &Checked, up: &Upstream<'_>) -> TokenStream {
    if !up.watermarked {
        return quote!();
    }
    let rt = rt();
    let (wm, up_wm) = (ident("watermark", &q.key()), ident("watermark", &up.q.key()));
    let feed = q.feed.clone().unwrap_or(Feed::Same);
    let now = passed(&feed, quote!(#up_wm.current().0));
    let late = passed(&feed, quote!(#up_wm.for_late_events().0));
    quote! {
        let #wm = #rt::structured::watermark::Watermark::view(
            #rt::structured::time::Timestamp(#now),
            #rt::structured::time::Timestamp(#late),
        );
    }
}

/// The output watermark (µs) of the operator `feed` describes, from its input watermark `wm_us`:
/// the same, or for a stream-stream join the least of it and the sides' state watermarks
/// (Spark's `StreamingSymmetricHashJoinExec.produceOutputWatermark`).
fn passed(feed: &Feed, wm_us: TokenStream) -> TokenStream {
    let Feed::Join { left, right } = feed else { return wm_us };
    let now = Ident::new("feed_wm", Span::mixed_site());
    // A key-bound side's state watermark is the input watermark itself: only range-bound
    // sides can be lower.
    let sides = [left, right].into_iter().filter(|e| matches!(e, Some(Evict::Value { .. }))).map(|e| {
        let ms = super::join::state_watermark(e, &now);
        quote!((#ms).saturating_mul(1000))
    });
    quote!({ let #now: i64 = #wm_us; [#now #(, #sides)*].into_iter().min().unwrap_or(#now) })
}

/// The loop of a later stage: each row the stage before it emitted, its columns bound as the
/// steps read them, through `pipeline`.
pub(super) fn rows_loop(up: &Upstream<'_>, pipeline: impl FnOnce(super::scope::Scope) -> TokenStream) -> TokenStream {
    let row = Ident::new("feed_row", Span::mixed_site());
    let rows = ident("rows", &up.q.key());
    let (binds, scope) = row_scope(up.q, &row);
    let pipeline = pipeline(scope);
    quote! {
        for #row in #rows.iter() {
            #binds
            #pipeline
        }
    }
}

/// Whether a stage after `q` keeps state the watermark cleans (an aggregation or a
/// deduplication): then the query runs a no-data batch when the watermark moves (Spark's
/// `shouldRunAnotherBatch` of that operator).
pub(super) fn later_state(q: &Checked) -> bool {
    q.stages().skip(1).any(|s| s.agg.is_some() || s.steps.iter().any(|t| matches!(t, TStep::Dedup { .. })))
}
