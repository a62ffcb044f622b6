//! "Colour a picture while reading a story": two tasks sharing one child's attention.
//!
//! Run it with `cargo run --example colour_and_story`. It runs the same program
//!
//! * once in asyncio's order (the FIFO scheduler),
//! * under several seeds of the Random scheduler, showing different interleavings, and
//! * twice under one seed, showing that a seed always gives the same run,
//!
//! all in simulated time: the whole afternoon takes a few microseconds of real time.

use std::cell::RefCell;
use std::rc::Rc;

use detsim::scheduler::{Fifo, Random, Scheduler};
use detsim::time::{Duration, now, sleep};
use detsim::{Builder, task};

/// What happened, in order, each line stamped with simulated time.
type Diary = Rc<RefCell<Vec<String>>>;

fn note(diary: &Diary, who: &str, what: &str) {
    diary
        .borrow_mut()
        .push(format!("{:>6}  {who:<8} {what}", now().to_string()));
}

async fn afternoon() -> Vec<String> {
    let diary: Diary = Rc::new(RefCell::new(Vec::new()));

    let d = diary.clone();
    let colour = task::Builder::new().name("colour").spawn(async move {
        for area in ["sky", "house", "tree"] {
            note(&d, "colour", &format!("picks a crayon for the {area}"));
            detsim::yield_now().await; // looks up at the story
            note(&d, "colour", &format!("colours the {area}"));
            sleep(Duration::from_secs(60)).await;
        }
    });

    let d = diary.clone();
    let story = task::Builder::new().name("story").spawn(async move {
        for page in 1..=3 {
            note(&d, "story", &format!("reads page {page}"));
            sleep(Duration::from_secs(45)).await;
            // Sometimes the reader pauses to show the picture.
            if detsim::random_bool() {
                note(&d, "story", "shows the picture");
                detsim::yield_now().await;
            }
        }
    });

    colour.await.expect("the colouring task finished");
    story.await.expect("the story task finished");
    note(&diary, "main", "the afternoon is over");
    diary.take()
}

fn show(title: &str, scheduler: impl Scheduler + 'static, seed: u64) -> Vec<String> {
    let report = Builder::new()
        .seed(seed)
        .scheduler(scheduler)
        .run_report(afternoon());
    let diary = report.output.unwrap_or_else(|f| panic!("{f}"));
    println!(
        "== {title}: {} decisions, {} steps",
        report.decisions.len(),
        report.steps
    );
    for line in &diary {
        println!("  {line}");
    }
    println!();
    diary
}

fn main() {
    show("asyncio's order (Fifo)", Fifo::new(), 0);
    let mut distinct = std::collections::BTreeSet::new();
    for seed in 1..=3 {
        distinct.insert(show(&format!("Random, seed {seed}"), Random::new(), seed));
    }
    println!("{} distinct interleavings from 3 seeds\n", distinct.len());

    let a = show("Random, seed 2 again", Random::new(), 2);
    let b = Builder::new()
        .seed(2)
        .scheduler(Random::new())
        .run(afternoon())
        .expect("the run succeeds");
    assert_eq!(a, b, "the same seed must give the same run");
    println!("Seed 2 replayed: the same run, line for line.");
}
