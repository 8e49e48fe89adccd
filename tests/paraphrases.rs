//! Hand-written phrasings, unlike the scene generator's templates, over
//! Digital Twins of generated scenes: at least 90% must select exactly the
//! ground-truth objects.

mod reason_support;

use reason_support::{answer_iou, ground_truth_twin};
use twinseg::reason::EmbeddedReasoner;
use twinseg::scenes::{generate, scene_seed, Scene};

/// (question, target ids) pairs phrased by hand for one scene.
fn paraphrases(scene: &Scene) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let objects = &scene.objects;
    for o in objects {
        let same_colour = objects.iter().filter(|p| p.colour == o.colour).count();
        let same_shape = objects.iter().filter(|p| p.shape == o.shape).count();
        let same_both = objects
            .iter()
            .filter(|p| p.colour == o.colour && p.shape == o.shape)
            .count();
        let (colour, shape) = (&o.colour, o.shape.name());
        if same_colour == 1 {
            out.push((
                format!("Could you please highlight whatever is {colour}?"),
                vec![o.id],
            ));
            out.push((format!("where's the {colour} thing located"), vec![o.id]));
        }
        if same_shape == 1 {
            out.push((
                format!("I'm looking for a {shape}, where is it?"),
                vec![o.id],
            ));
            out.push((format!("Mark the one shaped like a {shape}."), vec![o.id]));
        }
        if same_both == 1 {
            out.push((
                format!("point out the {shape} which happens to be {colour}"),
                vec![o.id],
            ));
            out.push((
                format!("Show me that {colour}-coloured {shape}, thanks"),
                vec![o.id],
            ));
        }
    }
    let colours: std::collections::BTreeSet<&str> =
        objects.iter().map(|o| o.colour.as_str()).collect();
    for colour in colours {
        let ids: Vec<usize> = objects
            .iter()
            .filter(|o| o.colour == colour)
            .map(|o| o.id)
            .collect();
        if ids.len() >= 2 {
            out.push((format!("Select each and every {colour} item"), ids.clone()));
        }
        let others: Vec<usize> = objects
            .iter()
            .filter(|o| o.colour != colour)
            .map(|o| o.id)
            .collect();
        let host_excluded = objects
            .iter()
            .any(|o| o.colour == colour && o.parent.is_some_and(|p| others.contains(&p)));
        if !others.is_empty() && !host_excluded {
            out.push((format!("anything whose colour isn't {colour}"), others));
        }
    }
    let mut by_area: Vec<usize> = (0..objects.len()).collect();
    by_area.sort_by_key(|&i| std::cmp::Reverse(objects[i].area()));
    if by_area.len() >= 2
        && objects[by_area[0]].area() as f64 >= 1.3 * objects[by_area[1]].area() as f64
    {
        out.push((
            "Which shape is the most enormous?".to_string(),
            vec![by_area[0]],
        ));
        out.push((
            "can you find the thing occupying the most room".to_string(),
            vec![by_area[0]],
        ));
    }
    out
}

#[test]
fn hand_written_paraphrases_are_answered() {
    let reasoner = EmbeddedReasoner;
    let (mut right, mut total) = (0, 0);
    let mut misses = Vec::new();
    for index in 0..40 {
        let scene = generate(scene_seed(99, index));
        let (twin, masks) = ground_truth_twin(&scene);
        for (text, targets) in paraphrases(&scene) {
            let answer = reasoner.answer(&twin, &text);
            total += 1;
            if answer_iou(&scene, &twin, &masks, &answer, &targets) > 0.99 {
                right += 1;
            } else {
                misses.push(format!("{text:?}: {:?}", answer.steps));
            }
        }
    }
    println!("paraphrases right: {right}/{total}");
    for miss in misses.iter().take(30) {
        println!("{miss}");
    }
    assert!(total >= 200, "only {total} paraphrases asked");
    assert!(
        right as f64 >= 0.9 * total as f64,
        "only {right} of {total} paraphrases right"
    );
}

#[test]
fn says_so_when_it_cannot_understand_or_nothing_fits() {
    let scene = generate(scene_seed(99, 0));
    let (twin, _) = ground_truth_twin(&scene);
    let reasoner = EmbeddedReasoner;
    for text in [
        "hello there",
        "the dog",
        "the purple unicorn next to the moon",
    ] {
        let answer = reasoner.answer(&twin, text);
        assert!(answer.ids.is_empty(), "{text:?} selected {:?}", answer.ids);
        assert!(answer.none_reason.is_some(), "{text:?} gave no reason");
    }
}
