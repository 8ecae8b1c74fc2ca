//! The science-policy topic presets (config/topics/science-policy.toml), loaded through the real
//! config parser, against headlines written for them: each preset catches its policy stories,
//! misses the near misses written for it (its words in a plain-science sense), and no preset
//! catches plain science.

use std::collections::HashSet;
use std::path::PathBuf;

use newsdesk::config::Config;
use newsdesk::topics::{Query, TopicDoc};

/// The preset names, in file order. A feed pack refers to them: renaming one breaks it.
const NAMES: [&str; 10] = [
    "research-funding",
    "research-security",
    "export-controls",
    "ai-policy",
    "climate-energy-policy",
    "biomedical-policy",
    "space-policy",
    "higher-education",
    "international-collaboration",
    "scientific-integrity",
];

/// Fewest headlines per preset and side, so that trimming a list to make a query pass shows.
const MIN_CASES: usize = 4;

struct Preset {
    name: String,
    title: Option<String>,
    query: Query,
}

fn presets() -> Vec<Preset> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/topics/science-policy.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let config = Config::from_str_at(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    config
        .topics
        .into_iter()
        .map(|t| Preset {
            name: t.name.into_inner(),
            title: t.title,
            query: t.query,
        })
        .collect()
}

/// A headline and the text under it ("" when the headline stands alone), as the pipeline
/// matches an item's title and text.
type Doc = (&'static str, &'static str);

struct Case {
    topic: &'static str,
    /// Policy stories the preset is for.
    hits: &'static [Doc],
    /// Stories it must leave out: mostly its own words in a non-policy sense.
    misses: &'static [Doc],
}

const CASES: &[Case] = &[
    Case {
        topic: "research-funding",
        hits: &[
            ("NIH budget cut by 10% in House bill", ""),
            ("Senate appropriators restore NSF grant programs", ""),
            (
                "Universities warn of layoffs as federal research grants are frozen",
                "",
            ),
            ("White House budget request slashes NOAA science", ""),
            ("Parliament approves record science budget", ""),
            (
                "Research councils face 8% funding cut in spending plan",
                "The ministry says the savings are needed to balance the books.",
            ),
        ],
        misses: &[
            ("Cell budding in yeast explained", ""),
            (
                "Earth's carbon budget could be spent within a decade",
                "Scientists urge lawmakers to act on the new estimate.",
            ),
            (
                "Hummingbirds stretch a tight energy budget through cold nights",
                "",
            ),
            (
                "Deep-sea worms thrive near hydrothermal vents",
                "The expedition was funded by the National Science Foundation; the team cut \
                 samples from three vent chimneys.",
            ),
            (
                "Choosing the appropriate statistical test for research data",
                "",
            ),
            ("Grant's zebras rebound in restored savanna", ""),
            (
                "Biotech startup raises $80 million in funding for gene therapy",
                "",
            ),
            (
                "Cultural appropriation debate reaches museum science exhibits",
                "",
            ),
            (
                "Tardigrades revived after 30 years frozen",
                "The work was supported by a university research grant.",
            ),
            (
                "Slash-and-burn farming reshapes Amazon soils",
                "Funded by a national science foundation grant.",
            ),
        ],
    },
    Case {
        topic: "research-security",
        hits: &[
            (
                "Universities tighten research security rules for federal grantees",
                "",
            ),
            (
                "Professor failed to disclose ties to Chinese talent program, prosecutors say",
                "",
            ),
            (
                "Agency will require researchers to disclose foreign funding",
                "",
            ),
            ("Lawmakers probe foreign influence at university labs", ""),
            (
                "Former lab director convicted over Thousand Talents contract",
                "",
            ),
            (
                "Engineer charged with stealing trade secrets from national laboratory",
                "",
            ),
        ],
        misses: &[
            (
                "Security flaw in popular open-source crypto library patched",
                "",
            ),
            ("Security researchers find bugs in satellite firmware", ""),
            ("Full disclosure: octopuses may dream, researchers say", ""),
            ("Crows show a talent for making tools", ""),
            (
                "Foreign plant species reshape island ecosystems",
                "Researchers counted 300 introduced species.",
            ),
            (
                "Election officials warn of foreign influence campaign on social media",
                "",
            ),
            (
                "Bacteria borrow foreign genes to resist antibiotics, study finds",
                "",
            ),
            ("Chinese researchers disclose structure of new enzyme", ""),
            (
                "Immune cells spot foreign proteins within minutes",
                "The researchers disclose no competing interests.",
            ),
            (
                "Parasitic plants practice chemical espionage on their hosts, researchers find",
                "",
            ),
        ],
    },
    Case {
        topic: "export-controls",
        hits: &[
            (
                "Commerce Department tightens export controls on AI chips",
                "",
            ),
            ("Chinese supercomputer lab added to Entity List", ""),
            (
                "New rules restrict exports of quantum computing technology",
                "",
            ),
            ("Beijing curbs gallium exports amid chip dispute", ""),
            (
                "Universities seek clarity on deemed export rules for foreign students",
                "",
            ),
            (
                "Netherlands widens licence requirement for lithography machine exports",
                "",
            ),
        ],
        misses: &[
            ("How cells export misfolded proteins", ""),
            ("Plants export sugar to fungal partners underground", ""),
            ("Nuclear export of RNA is restricted during heat shock", ""),
            ("Gene controls export of iron from gut cells", ""),
            ("Coffee exports hit record as harvest booms", ""),
            (
                "New software lets labs export instrument data without a licence",
                "",
            ),
        ],
    },
    Case {
        topic: "ai-policy",
        hits: &[
            (
                "EU AI Act obligations for general-purpose models take effect",
                "",
            ),
            ("Senators introduce bill to license frontier AI models", ""),
            (
                "White House order sets safety testing rules for AI labs",
                "",
            ),
            ("Regulators weigh limits on chatbots used by children", ""),
            ("AI safety institute publishes first model evaluations", ""),
            ("Parliament votes to ban deepfake election ads", ""),
        ],
        misses: &[
            ("AI model predicts how proteins fold", ""),
            ("AI learns the rules of Go from scratch", ""),
            (
                "Machine learning uncovers new physical laws in fluid data",
                "",
            ),
            ("Reinforcement learning AI improves its grasping policy", ""),
            ("Machine learning maps gene regulation in maize", ""),
            (
                "At cardiology congress, AI tool flags irregular heartbeats",
                "",
            ),
            ("AI rules out cancer in thousands of mammograms", ""),
            ("Chatbot passes medical licensing exam", ""),
        ],
    },
    Case {
        topic: "climate-energy-policy",
        hits: &[
            ("EPA moves to repeal power plant emissions limits", ""),
            ("Senate passes clean energy tax credit extension", ""),
            ("Ministry scraps national fusion research programme", ""),
            (
                "Countries miss 2030 emissions targets, putting Paris Agreement goals at risk",
                "",
            ),
            ("NOAA climate research labs face 30% funding cut", ""),
            ("Parliament approves carbon tax on aviation fuel", ""),
        ],
        misses: &[
            ("Dark energy may be weakening, survey suggests", ""),
            (
                "Hydrogen atom's energy levels measured to record precision",
                "",
            ),
            ("Solar wind strips Mars of its atmosphere", ""),
            ("Carbon nanotubes conduct heat in surprising ways", ""),
            ("Cell fusion helps damaged muscles repair", ""),
            ("Ancient climate swings shaped early human migration", ""),
            ("Forests' role in climate regulation quantified", ""),
            (
                "Scrap steel recycling cuts carbon emissions, research program finds",
                "",
            ),
            (
                "Perovskite solar cells last a decade outdoors",
                "The work was funded by the Ministry of Energy and a government research grant.",
            ),
            ("Robot learns an energy-efficient walking policy", ""),
            (
                "Land subsidence worsens coastal flooding as climate warms",
                "",
            ),
            ("Carbon dating shows medieval peace treaty is a forgery", ""),
            (
                "Magnet with net zero magnetization switches in picoseconds",
                "",
            ),
        ],
    },
    Case {
        topic: "biomedical-policy",
        hits: &[
            ("NIH caps indirect costs on research grants at 15%", ""),
            ("FDA issues draft guidance on AI in drug development", ""),
            (
                "New rule requires sponsors to post clinical trial results within a year",
                "",
            ),
            (
                "White House pauses funding for gain-of-function research",
                "",
            ),
            ("Senate confirms new FDA commissioner", ""),
            (
                "NIH to phase out animal testing requirements in grant reviews",
                "",
            ),
            ("Biosafety lapses at lab prompt new oversight rules", ""),
        ],
        misses: &[
            ("NIH-funded study links gut microbes to mood", ""),
            ("Gain-of-function mutation drives rare heart disease", ""),
            ("Clinical trial shows new drug lowers blood pressure", ""),
            (
                "NIH scientists rule out virus as cause of mystery illness",
                "",
            ),
            ("Protein that regulates insulin enters clinical trials", ""),
            ("Police use DNA genealogy to solve decades-old case", ""),
            (
                "FDA-approved drug shrinks tumors in mice",
                "Researchers at an NIH lab say the finding needs confirmation.",
            ),
            ("FDA approves first gene therapy for inherited deafness", ""),
            (
                "NIH researchers build framework to predict protein shapes",
                "",
            ),
            ("Vitamin D requirements rise in winter, NIH study finds", ""),
            (
                "Clinical trial shows protein requirements of older adults are higher",
                "",
            ),
            ("Biosecurity dogs sniff out banned fruit at airports", ""),
        ],
    },
    Case {
        topic: "space-policy",
        hits: &[
            ("NASA budget proposal would cancel Mars Sample Return", ""),
            ("Senate committee advances NASA administrator nominee", ""),
            ("FAA grounds rocket pending launch license review", ""),
            ("Artemis Accords gain three new signatories", ""),
            (
                "FCC adopts five-year rule for deorbiting dead satellites",
                "",
            ),
            (
                "European ministers agree record European Space Agency budget",
                "",
            ),
        ],
        misses: &[
            ("Space between atoms tuned to make new superconductor", ""),
            ("NASA telescope captures galaxy collision", ""),
            ("Astronauts grow lettuce on the space station", ""),
            ("NASA probe measures Jupiter's energy budget", ""),
            ("Brain's grid cells map space as rats explore", ""),
            ("Lawmakers split over ESA listing for monarch butterfly", ""),
            (
                "Atom interferometer on space station cancels vibration noise",
                "",
            ),
            (
                "NASA-funded study finds microbes survive in Mars-like brines",
                "",
            ),
            ("FAA launches review of airline pilot rest rules", ""),
        ],
    },
    Case {
        topic: "higher-education",
        hits: &[
            ("State lawmakers cut university budgets for second year", ""),
            (
                "Visa delays keep international researchers from joining labs",
                "",
            ),
            ("H-1B fee hike worries university hiring managers", ""),
            (
                "Education Department opens probe into college admissions",
                "",
            ),
            (
                "Government caps international student numbers at universities",
                "",
            ),
            ("Postdocs' visa waivers paused by State Department", ""),
            (
                "Graduate students face deportation after visa revocations",
                "",
            ),
        ],
        misses: &[
            ("Visa launches rewards card for college students", ""),
            ("Visa waives card fees for university students", ""),
            (
                "Island bird populations depend on immigration, researchers find",
                "",
            ),
            (
                "University of Oslo researchers decode fish immune genes",
                "",
            ),
            (
                "College students sleep less during exam weeks, study finds",
                "",
            ),
            (
                "Cuckoo eggs work like a visa into host nests, scientists say",
                "",
            ),
            ("Imperial College team builds insect-sized flying robot", ""),
            (
                "Geologist who mapped 400 caves during her university tenure dies at 91",
                "",
            ),
        ],
    },
    Case {
        topic: "international-collaboration",
        hits: &[
            (
                "US and China renew decades-old science and technology agreement",
                "",
            ),
            ("UK rejoins Horizon Europe after three-year gap", ""),
            (
                "Switzerland signs association agreement to join EU research programme",
                "",
            ),
            ("U.S.-China student exchanges shrink as tensions rise", ""),
            (
                "Sanctions cut Russian scientists off from international journals",
                "",
            ),
            ("Canada seeks associate member status at CERN", ""),
        ],
        misses: &[
            (
                "International collaboration of astronomers spots distant supernova",
                "",
            ),
            (
                "Chinese and American paleontologists describe feathered dinosaur",
                "",
            ),
            ("Black hole's event horizon imaged in finer detail", ""),
            ("Cooperation among cleaner fish depends on partner size", ""),
            (
                "Gene variant associated with longer life in European populations",
                "",
            ),
            (
                "US and Chinese physicists' measurements in agreement with theory",
                "",
            ),
            (
                "CERN physicists measure Higgs boson mass with new precision",
                "",
            ),
        ],
    },
    Case {
        topic: "scientific-integrity",
        hits: &[
            (
                "Agency adopts scientific integrity policy after political interference claims",
                "",
            ),
            (
                "Funder requires immediate open access to all papers it supports",
                "",
            ),
            ("Journal retracts 40 papers linked to paper mill", ""),
            (
                "University finds researcher fabricated data in cancer studies",
                "",
            ),
            (
                "Federal public access policy ends 12-month embargo on research papers",
                "",
            ),
            (
                "Research misconduct finding against neuroscientist upheld",
                "",
            ),
        ],
        misses: &[
            (
                "Bridge's structural integrity tested with drone sensors",
                "",
            ),
            ("Membrane integrity keeps bacteria alive in acid", ""),
            ("How cats retract their claws so quickly", ""),
            ("Paper mill effluent harms river fish", ""),
            ("Chip fabrication technique yields smaller transistors", ""),
            ("Public access to beaches shrinks as seas rise", ""),
            (
                "Right-censored data handled by new survival analysis method",
                "",
            ),
            ("Open-access dataset of bird songs released", ""),
            ("Glaciers retract as the climate warms, paper reports", ""),
            (
                "Cats' claw retraction filmed at 10,000 frames per second",
                "The authors describe the tendon in a paper in the journal.",
            ),
            ("Ant colonies punish misconduct, researchers find", ""),
        ],
    },
];

/// Science news with no policy in it: no preset may match any of these.
const PLAIN_SCIENCE: &[Doc] = &[
    ("Astronomers find water vapor on a temperate exoplanet", ""),
    ("Octopus arms make decisions on their own", ""),
    ("New antibiotic found in soil bacteria", ""),
    ("Ancient DNA reveals how dogs spread across Europe", ""),
    ("Coral reefs recover faster where fish are protected", ""),
    ("Physicists trap antimatter for a record 20 minutes", ""),
    (
        "Sleep clears waste from the brain, mouse study suggests",
        "The work was funded by the National Institutes of Health.",
    ),
    ("Volcanic eruption cooled the planet for three years", ""),
    ("Bees learn to count to four", ""),
    (
        "Quantum sensor detects single photons at room temperature",
        "",
    ),
    ("Glacier melt rate doubles in the Himalaya", ""),
    ("Gut bacteria help mice digest fiber", ""),
    ("Largest fossil spider found in Australia", ""),
    ("Battery made from wood stores solar energy", ""),
    (
        "Machine learning finds thousands of new crystal structures",
        "",
    ),
    ("Jupiter's moon Europa hides a salty ocean, data show", ""),
    (
        "Neutrino detector sees first events from the Sun's core",
        "",
    ),
    ("Whales sing in regional dialects", ""),
    (
        "CRISPR edit restores hearing in deaf mice",
        "An international team at two universities cut the faulty gene.",
    ),
    ("Ice cores record 800,000 years of carbon dioxide", ""),
    ("Protein export machinery imaged at atomic resolution", ""),
    ("Crop yields fall as heat waves grow longer", ""),
    (
        "Salt-tolerant rice gene raises yields in coastal fields",
        "The university team was supported by the Ministry of Science and Technology, the \
         Ministry of Education and a Young Thousand Talents Program grant, and by Horizon 2020 \
         under grant agreement 100000.",
    ),
    (
        "Bacteria wire up river sediments with electric cables",
        "The paper is open access; the funders had no role in the study, and data required to \
         reproduce it are in a public repository. Funded by Horizon Europe.",
    ),
    (
        "Frozen soil samples reveal ancient viruses",
        "The study, published in the journal Science, was funded by federal grants; the \
         frozen cores were cut into thin slices.",
    ),
];

/// A lower-case slug: letters, digits and single dashes between words.
fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn preset<'a>(presets: &'a [Preset], name: &str) -> &'a Preset {
    presets
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no preset named {name:?}"))
}

fn matches(preset: &Preset, (title, text): Doc) -> bool {
    preset.query.matches(&TopicDoc::new(title, text))
}

#[test]
fn presets_are_the_agreed_unique_slugs_with_titles() {
    let presets = presets();
    let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, NAMES);
    let mut seen = HashSet::new();
    for p in &presets {
        assert!(is_slug(&p.name), "{:?} is not a slug", p.name);
        assert!(seen.insert(p.name.as_str()), "{:?} appears twice", p.name);
        let title = p.title.as_deref().unwrap_or_default();
        assert!(!title.trim().is_empty(), "{}: no title", p.name);
    }
}

#[test]
fn slug_check_rejects_what_is_not_a_slug() {
    for bad in [
        "",
        "AI-policy",
        "ai policy",
        "ai_policy",
        "-ai",
        "ai-",
        "ai--policy",
    ] {
        assert!(!is_slug(bad), "{bad:?}");
    }
    assert!(is_slug("cop30-talks"));
}

#[test]
fn every_preset_has_its_cases() {
    let cases: Vec<&str> = CASES.iter().map(|c| c.topic).collect();
    assert_eq!(cases, NAMES, "one case list per preset, in file order");
    for case in CASES {
        assert!(
            case.hits.len() >= MIN_CASES && case.misses.len() >= MIN_CASES,
            "{}: {} hits, {} misses",
            case.topic,
            case.hits.len(),
            case.misses.len()
        );
    }
}

#[test]
fn each_preset_matches_its_policy_headlines_and_not_its_near_misses() {
    let presets = presets();
    let mut failures = Vec::new();
    for case in CASES {
        let preset = preset(&presets, case.topic);
        for &doc in case.hits {
            if !matches(preset, doc) {
                failures.push(format!("{} should match {doc:?}", case.topic));
            }
        }
        for &doc in case.misses {
            if matches(preset, doc) {
                failures.push(format!("{} should not match {doc:?}", case.topic));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_preset_matches_plain_science() {
    let presets = presets();
    let mut failures = Vec::new();
    for &doc in PLAIN_SCIENCE {
        for p in presets.iter().filter(|p| matches(p, doc)) {
            failures.push(format!("{} matches {doc:?}", p.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
