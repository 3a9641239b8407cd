//! `Document` without a terminal: each test scripts the passphrases typed and reads back
//! what was asked and said.

use std::collections::VecDeque;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::time::{Duration, Instant};

use strongroom::age::{Decryptor, Encryptor, Identity, Recipient};
use strongroom::kdf::KdfParams;

use super::*;

/// Argon2id's smallest parameters: tests' files, never real ones.
const CHEAP: KdfParams = KdfParams { memory_kib: 8, iterations: 1, rounds: 0 };
/// The original tool's vectors, beside the repository (never copied into it).
const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/sedit");
/// What `open` answers when the passphrase is right but the file is not.
const WRONG: &str = "wrong passphrase (or the file was altered); try again";

/// What a scripted `open` asked and said.
struct Transcript {
    asked: Vec<String>,
    said: Vec<String>,
}

impl Transcript {
    fn said(&self, message: &str) -> usize {
        self.said.iter().filter(|m| m.contains(message)).count()
    }
}

/// `open` with `answers` typed at its prompts, in order; every answer must be used.
fn open_scripted(request: &OpenRequest, answers: &[&str]) -> (Result<(Document, Text), String>, Transcript) {
    let mut left: VecDeque<&str> = answers.iter().copied().collect();
    let (mut asked, mut said) = (Vec::new(), Vec::new());
    let result = {
        let mut ask = |prompt: &str| -> strongroom::Result<SecretString> {
            asked.push(prompt.to_owned());
            let answer = left.pop_front().unwrap_or_else(|| panic!("unexpected prompt {prompt:?}"));
            let mut typed = SecretString::new();
            typed.push_str(answer)?;
            Ok(typed)
        };
        let mut say = |message: &str| said.push(message.to_owned());
        Document::open_with(request, &mut Dialogue { ask: &mut ask, say: &mut say })
    };
    assert!(left.is_empty(), "answers never asked for: {left:?}");
    (result, Transcript { asked, said })
}

/// `open_scripted` that must succeed; the plaintext as bytes.
#[track_caller]
fn open_ok(request: &OpenRequest, answers: &[&str]) -> (Document, Vec<u8>, Transcript) {
    let (result, transcript) = open_scripted(request, answers);
    let (document, mut text) = result.unwrap_or_else(|e| panic!("{e}; said {:?}", transcript.said));
    let len = text.len();
    let plaintext = text.contiguous(0..len).to_vec();
    (document, plaintext, transcript)
}

/// `open_scripted` that must fail; the message.
#[track_caller]
fn open_err(request: &OpenRequest, answers: &[&str]) -> (String, Transcript) {
    let (result, transcript) = open_scripted(request, answers);
    match result {
        Ok(_) => panic!("opened; said {:?}", transcript.said),
        Err(message) => (message, transcript),
    }
}

fn request(path: &Path) -> OpenRequest {
    OpenRequest {
        path: path.to_owned(),
        identities: Vec::new(),
        format: None,
        import: None,
        needs_lock_passphrase: false,
    }
}

/// A fresh directory for one test, removed afterwards.
struct TestDir(PathBuf);

impl TestDir {
    fn new(test: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!("sedit-document-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TestDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Names in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A directory that refuses new files while this lives: mode 0500, and for root (whom modes
/// do not stop) the immutable attribute too.
struct ReadOnly<'a> {
    dir: &'a Path,
    immutable: bool,
}

impl<'a> ReadOnly<'a> {
    /// `None` where neither stops this user (then the test reports itself skipped).
    fn new(dir: &'a Path) -> Option<ReadOnly<'a>> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o500)).unwrap();
        let mut guard = ReadOnly { dir, immutable: false };
        if guard.refuses_files() {
            return Some(guard);
        }
        guard.immutable = chattr(dir, "+i");
        (guard.immutable && guard.refuses_files()).then_some(guard)
    }

    fn refuses_files(&self) -> bool {
        let probe = self.dir.join("probe");
        let refused = File::create(&probe).is_err();
        let _ = fs::remove_file(probe);
        refused
    }
}

impl Drop for ReadOnly<'_> {
    fn drop(&mut self) {
        if self.immutable {
            chattr(self.dir, "-i");
        }
        let _ = fs::set_permissions(self.dir, fs::Permissions::from_mode(0o700));
    }
}

fn chattr(path: &Path, flag: &str) -> bool {
    std::process::Command::new("chattr").arg(flag).arg(path).output().is_ok_and(|out| out.status.success())
}

/// Reports a test that did not run where `cargo test` shows it (libtest captures `eprintln!`).
fn skip(test: &str, why: &str) {
    let _ = writeln!(io::stderr().lock(), "SKIPPED: {test}: {why}");
}

fn sedit_file(path: &Path, plaintext: &[u8], passphrase: &str, params: &KdfParams) {
    fs::write(path, strongroom::sedit::encrypt(plaintext, passphrase.as_bytes(), params).unwrap()).unwrap();
}

fn locked(bytes: &[u8]) -> LockedBuffer {
    LockedBuffer::from_bytes(&mut bytes.to_vec()).unwrap()
}

/// An age file for `passphrase` with a cheap work factor (10).
fn age_file(path: &Path, plaintext: &[u8], passphrase: &str, armored: bool) {
    let to = [Recipient::passphrase(locked(passphrase.as_bytes()), Some(10)).unwrap()];
    let mut encryptor =
        if armored { Encryptor::armored(Vec::new(), &to).unwrap() } else { Encryptor::new(Vec::new(), &to).unwrap() };
    encryptor.write_all(plaintext).unwrap();
    fs::write(path, encryptor.finish().unwrap()).unwrap();
}

/// Decrypts a sedit file the way another reader would: through the library, not `Document`.
fn sedit_plaintext(path: &Path, passphrase: &str) -> Vec<u8> {
    let opened = strongroom::sedit::decrypt(&fs::read(path).unwrap(), passphrase.as_bytes()).unwrap();
    opened.expose().unwrap().to_vec()
}

fn header_params(path: &Path) -> KdfParams {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"SEDIT\0\x03\0", "a v3 file");
    sedit_header(&bytes).unwrap().1
}

#[test]
fn the_original_tools_vectors_open_to_their_plaintext() {
    let test = "the_original_tools_vectors_open_to_their_plaintext";
    if !Path::new(VECTORS).is_dir() {
        return skip(test, "../shared/vectors/sedit (beside the repository) is absent");
    }
    let cases = [
        ("v1_constructed", "legacy-v1", "sedit v1 (saves as v3)"),
        ("v2_basic", "correct horse battery staple", "sedit v2 (saves as v3)"),
        ("v2_fixed_salt", "password", "sedit v2 (saves as v3)"),
        ("v2_unicode", "pässwörd-🔑", "sedit v2 (saves as v3)"),
        ("v2_empty_plaintext", "a", "sedit v2 (saves as v3)"),
        ("v3_cheap_params", "pw", "sedit v3"),
    ];
    for (vector, passphrase, label) in cases {
        let path = Path::new(VECTORS).join(format!("{vector}.sedit"));
        let expected = fs::read(Path::new(VECTORS).join(format!("{vector}.plaintext"))).unwrap();
        let (document, plaintext, transcript) = open_ok(&request(&path), &[passphrase]);
        assert!(plaintext == expected, "{vector}: the plaintext differs");
        assert_eq!(document.format_label(), label, "{vector}");
        assert_eq!(transcript.asked, [format!("Passphrase for {}: ", path.display())], "{vector}");
        assert!(transcript.said[0].starts_with("deriving the key from the passphrase (Argon2id, "), "{vector}");
    }
}

#[test]
fn a_wrong_passphrase_is_asked_again_and_the_right_one_opens() {
    let dir = TestDir::new("wrong-then-right");
    let path = dir.join("notes.sedit");
    sedit_file(&path, b"my notes", "right", &CHEAP);
    let (document, plaintext, transcript) = open_ok(&request(&path), &["wrong", "right"]);
    assert_eq!(plaintext, b"my notes");
    let prompt = format!("Passphrase for {}: ", path.display());
    assert_eq!(transcript.asked, [prompt.clone(), prompt]);
    assert_eq!(transcript.said(WRONG), 1);
    assert_eq!(transcript.said("deriving the key from the passphrase (Argon2id, 8 KiB)..."), 2);
    assert_eq!(document.format_label(), "sedit v3");
    assert_eq!(document.name(), path.display().to_string());
}

#[test]
fn three_wrong_passphrases_give_up_and_leave_the_file_unchanged() {
    let dir = TestDir::new("three-wrong");
    let path = dir.join("notes.sedit");
    sedit_file(&path, b"my notes", "right", &CHEAP);
    let before = fs::read(&path).unwrap();
    let (message, transcript) = open_err(&request(&path), &["one", "two", "three"]);
    assert_eq!(message, format!("3 wrong passphrases: giving up; {} is unchanged", path.display()));
    assert_eq!(transcript.asked.len(), 3);
    assert_eq!(transcript.said(WRONG), 2, "said before the second and third tries");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(dir.names(), ["notes.sedit"]);
}

#[test]
fn an_empty_passphrase_is_refused_and_does_not_count_as_a_try() {
    let dir = TestDir::new("empty");
    let path = dir.join("notes.sedit");
    sedit_file(&path, b"x", "right", &CHEAP);
    let (_, plaintext, transcript) = open_ok(&request(&path), &["", "wrong", "", "wrong", "right"]);
    assert_eq!(plaintext, b"x");
    assert_eq!(transcript.said("the passphrase is empty; try again"), 2);
    assert_eq!(transcript.said(WRONG), 2);
}

#[test]
fn a_file_in_neither_format_is_refused_before_any_prompt() {
    let dir = TestDir::new("neither");
    for (name, contents) in [("plain.txt", &b"just some text\n"[..]), ("empty", b""), ("age-ish", b"age-encryption")] {
        let path = dir.join(name);
        fs::write(&path, contents).unwrap();
        let (message, transcript) = open_err(&request(&path), &[]);
        let shown = path.display();
        assert_eq!(
            message,
            format!(
                "{shown} is neither a sedit nor an age file; to encrypt a plaintext file on purpose: \
                 sedit --import PLAINTEXT {shown}"
            )
        );
        assert!(transcript.asked.is_empty());
    }
}

/// `--format` names the format of a new file; on an existing file of the other format it is
/// refused, not ignored.
#[test]
fn format_for_an_existing_file_of_another_format_is_refused() {
    let dir = TestDir::new("format");
    let path = dir.join("notes.sedit");
    fs::write(&path, strongroom::sedit::encrypt(b"x", b"pw", &CHEAP).unwrap()).unwrap();
    let (message, transcript) = open_err(&OpenRequest { format: Some(FormatChoice::Age), ..request(&path) }, &[]);
    assert!(message.contains("is already a sedit file: --format chooses the format of a new file only"), "{message}");
    assert!(transcript.asked.is_empty());
    let same = OpenRequest { format: Some(FormatChoice::Sedit), ..request(&path) };
    assert_eq!(open_ok(&same, &["pw"]).1, b"x");
}

/// A file that cannot be read whatever the passphrase says so at once: before any prompt
/// when the header shows it, else after the first passphrase, with no retry.
#[test]
fn damaged_files_are_refused_at_once_without_retries() {
    let dir = TestDir::new("damaged");
    let good = strongroom::sedit::encrypt(b"some text", b"pw", &CHEAP).unwrap();
    let mut hostile = good.clone();
    hostile[8..12].copy_from_slice(&u32::MAX.to_be_bytes()); // 4 TiB of Argon2 memory
    let mut too_many_rounds = good.clone();
    too_many_rounds[16..24].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let mut version_9 = good.clone();
    version_9[6] = 9;
    let start = Instant::now();
    for (name, bytes, why) in [
        ("cut-header", &good[..30], "cut short"),
        ("cut-nonce", &good[..60], "cut short"),
        ("hostile-memory", &hostile[..], "exceeds the limit"),
        ("hostile-rounds", &too_many_rounds[..], "exceeds the limit"),
        ("version-9", &version_9[..], "version 9"),
    ] {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        let (message, transcript) = open_err(&request(&path), &[]);
        assert!(message.starts_with(&format!("{} is damaged or not readable: ", path.display())), "{name}: {message}");
        assert!(message.contains(why), "{name}: {message}");
        assert!(transcript.asked.is_empty(), "{name}");
    }
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());

    // age: a broken header is refused before the prompt; a cut payload after the right
    // passphrase, at once.
    let path = dir.join("notes.age");
    age_file(&path, &[7; 200_000], "pw", false);
    let whole = fs::read(&path).unwrap();
    let broken_header = String::from_utf8_lossy(&whole).replacen("-> scrypt", "->  scrypt", 1).into_bytes();
    fs::write(&path, broken_header).unwrap();
    let (message, transcript) = open_err(&request(&path), &[]);
    assert!(message.contains("damaged or not readable: malformed"), "{message}");
    assert!(transcript.asked.is_empty());
    fs::write(&path, &whole[..whole.len() - 100]).unwrap();
    let (message, transcript) = open_err(&request(&path), &["pw"]);
    assert!(message.contains("damaged or not readable"), "{message}");
    assert_eq!(transcript.asked.len(), 1);
    assert_eq!(transcript.said(WRONG), 0);
}

#[test]
fn a_v3_file_saves_with_its_own_parameters_and_reopens() {
    let dir = TestDir::new("save-v3");
    let path = dir.join("notes.sedit");
    let own = KdfParams { memory_kib: 16, iterations: 2, rounds: 5 };
    sedit_file(&path, b"first", "pw", &own);
    let (mut document, _, _) = open_ok(&request(&path), &["pw"]);
    document.save(b"second, longer").unwrap();
    assert_eq!(sedit_plaintext(&path, "pw"), b"second, longer");
    assert_eq!(header_params(&path), own);
    document.save(b"third").unwrap();
    let (again, plaintext, _) = open_ok(&request(&path), &["pw"]);
    assert_eq!(plaintext, b"third");
    assert_eq!(again.format_label(), "sedit v3");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(dir.names(), ["notes.sedit"], "no temporary file is left");
}

#[test]
fn save_as_writes_a_new_file_with_the_same_keys_and_becomes_it() {
    let dir = TestDir::new("save-as");
    let path = dir.join("notes.sedit");
    let own = KdfParams { memory_kib: 16, iterations: 2, rounds: 5 };
    sedit_file(&path, b"first", "pw", &own);
    let (mut document, _, _) = open_ok(&request(&path), &["pw"]);
    let message = document.save_as(&path, b"x").unwrap_err();
    assert!(message.contains("exists: save as a new name"), "{message}");
    let missing = dir.join("no/such/dir/copy.sedit");
    assert!(document.save_as(&missing, b"x").is_err());
    assert_eq!(document.name(), path.display().to_string(), "a failed save-as changes nothing");
    let copy = dir.join("copy.sedit");
    document.save_as(&copy, b"second").unwrap();
    assert_eq!(document.name(), copy.display().to_string());
    assert_eq!(sedit_plaintext(&copy, "pw"), b"second");
    assert_eq!(header_params(&copy), own);
    assert_eq!(sedit_plaintext(&path, "pw"), b"first", "the old file is left as it was");
    document.save(b"third").unwrap();
    assert_eq!(sedit_plaintext(&copy, "pw"), b"third", "later saves go to the new file");
}

#[test]
fn a_v2_file_saves_as_v3_with_the_default_parameters() {
    let test = "a_v2_file_saves_as_v3_with_the_default_parameters";
    let vector = Path::new(VECTORS).join("v2_basic.sedit");
    if !vector.is_file() {
        return skip(test, "../shared/vectors/sedit (beside the repository) is absent");
    }
    let dir = TestDir::new("save-v2");
    let path = dir.join("v2.sedit");
    fs::copy(&vector, &path).unwrap();
    let passphrase = "correct horse battery staple";
    let (mut document, plaintext, _) = open_ok(&request(&path), &[passphrase]);
    assert_eq!(document.format_label(), "sedit v2 (saves as v3)");
    document.save(&plaintext).unwrap();
    assert_eq!(document.format_label(), "sedit v3");
    assert_eq!(header_params(&path), KdfParams::DEFAULT);
    assert_eq!(sedit_plaintext(&path, passphrase), plaintext);
}

#[test]
fn a_new_sedit_file_asks_twice_until_the_passphrases_match() {
    let dir = TestDir::new("new-sedit");
    let path = dir.join("new.txt");
    let answers = ["one", "two", "", "pw", "pw"];
    let (mut document, plaintext, transcript) = open_ok(&request(&path), &answers);
    assert!(plaintext.is_empty());
    let new = format!("New passphrase for {}: ", path.display());
    assert_eq!(transcript.asked, [&new, "Confirm passphrase: ", &new, &new, "Confirm passphrase: "]);
    assert_eq!(transcript.said("the passphrases do not match; try again"), 1);
    assert_eq!(transcript.said("the passphrase is empty; try again"), 1);
    assert_eq!(transcript.said("is a new file (sedit v3)"), 1);
    assert!(!path.exists(), "a new file is written on the first save");
    document.save(b"hello").unwrap();
    assert_eq!(header_params(&path), KdfParams::DEFAULT);
    assert_eq!(sedit_plaintext(&path, "pw"), b"hello");
}

#[test]
fn a_new_file_takes_the_format_flag_then_the_name() {
    let dir = TestDir::new("new-format");
    for (name, format, label) in [
        ("notes.age", None, "age"),
        ("notes", None, "sedit v3"),
        ("notes.age", Some(FormatChoice::Sedit), "sedit v3"),
        ("notes.txt", Some(FormatChoice::Age), "age"),
    ] {
        let mut request = request(&dir.join(name));
        request.format = format;
        let (document, _, transcript) = open_ok(&request, &["pw", "pw"]);
        assert_eq!(document.format_label(), label, "{name} {format:?}");
        assert_eq!(transcript.said(&format!("is a new file ({label})")), 1);
    }
    let (message, transcript) = open_err(&request(&dir.join("no-such-dir/notes")), &[]);
    assert!(message.contains("there is no directory"), "{message}");
    assert!(transcript.asked.is_empty());

    let mut with_identity = request(&dir.join("notes"));
    with_identity.identities.push(dir.join("key.txt"));
    with_identity.format = Some(FormatChoice::Sedit);
    let (message, _) = open_err(&with_identity, &[]);
    assert!(message.contains("a sedit file is encrypted with a passphrase only"), "{message}");
}

#[test]
fn an_age_passphrase_file_round_trips_and_keeps_its_work_factor() {
    let dir = TestDir::new("age-passphrase");
    for armored in [false, true] {
        let path = dir.join(if armored { "armored.age" } else { "binary.age" });
        age_file(&path, b"age notes", "pw", armored);
        let (mut document, plaintext, transcript) = open_ok(&request(&path), &["nope", "pw"]);
        assert_eq!(plaintext, b"age notes");
        assert_eq!(document.format_label(), "age");
        assert_eq!(transcript.said(WRONG), 1);
        assert_eq!(transcript.said("deriving the key from the passphrase (scrypt)..."), 2);
        if armored {
            // An armored file's header is not looked into: its work factor is not known.
            document.format = Format::Age { armored, work_factor: Some(10) };
        }
        document.save(b"new age notes").unwrap();
        let saved = fs::read(&path).unwrap();
        assert_eq!(saved.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"), armored);
        if !armored {
            assert_eq!(age_stanzas(&saved), AgeStanzas::Passphrase(Some(10)));
        }
        let (_, plaintext, _) = open_ok(&request(&path), &["pw"]);
        assert_eq!(plaintext, b"new age notes");
    }
}

/// Writes a fresh X25519 identity to `path` (mode 0600) and returns it.
fn identity_file(path: &Path) -> Identity {
    let identity = Identity::generate_x25519().unwrap();
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).unwrap();
    identity.to_text().unwrap().with(|text| file.write_all(text)).unwrap().unwrap();
    file.write_all(b"\n").unwrap();
    identity
}

#[test]
fn an_age_file_opens_with_identity_files_and_saves_to_their_recipients() {
    let dir = TestDir::new("age-identity");
    let key = dir.join("key.txt");
    let identity = identity_file(&key);
    let path = dir.join("notes.age");
    let mut encryptor = Encryptor::new(Vec::new(), &[identity.to_recipient().unwrap()]).unwrap();
    encryptor.write_all(b"for the key").unwrap();
    fs::write(&path, encryptor.finish().unwrap()).unwrap();

    // Without -i: refused, and no passphrase asked for.
    let (message, transcript) = open_err(&request(&path), &[]);
    assert!(message.contains("open it with -i IDENTITY_FILE"), "{message}");
    assert!(transcript.asked.is_empty());

    // With -i and auto-lock: the unlock passphrase is asked (twice), and only unlocks.
    let mut with_key = request(&path);
    with_key.identities.push(key.clone());
    with_key.needs_lock_passphrase = true;
    let (mut document, plaintext, transcript) = open_ok(&with_key, &["unlock me", "unlock me"]);
    assert_eq!(plaintext, b"for the key");
    assert_eq!(transcript.asked, ["Unlock passphrase (for auto-lock): ", "Confirm passphrase: "]);
    document.lock().unwrap();
    assert!(!document.unlock(b"wrong").unwrap());
    assert!(document.unlock(b"unlock me").unwrap());
    document.save(b"saved for the key").unwrap();
    let mut plain = SecretVec::new();
    Decryptor::new(&fs::read(&path).unwrap()[..], &[identity]).unwrap().read_to_end_secret(&mut plain).unwrap();
    assert_eq!(&*plain.expose().unwrap(), b"saved for the key");

    // Without auto-lock: nothing asked; there is then nothing to lock with.
    with_key.needs_lock_passphrase = false;
    let (mut document, _, transcript) = open_ok(&with_key, &[]);
    assert!(transcript.asked.is_empty());
    assert!(document.lock().is_err());

    // Someone else's key does not open it.
    let other = dir.join("other.txt");
    identity_file(&other);
    with_key.identities = vec![other];
    let (message, _) = open_err(&with_key, &[]);
    assert_eq!(message, format!("none of the -i identities opens {}", path.display()));

    // A new file with -i is age, for the identities' recipients, with no passphrase.
    let mut new = request(&dir.join("new"));
    new.identities.push(key);
    let (mut document, _, transcript) = open_ok(&new, &[]);
    assert_eq!(document.format_label(), "age");
    assert!(transcript.asked.is_empty());
    document.save(b"new for the key").unwrap();
    let (_, plaintext, _) = open_ok(&new, &[]);
    assert_eq!(plaintext, b"new for the key");
}

#[test]
fn lock_seals_the_passphrase_and_unlock_checks_it_in_constant_time() {
    let dir = TestDir::new("lock");
    let path = dir.join("notes.sedit");
    sedit_file(&path, b"text", "pw", &CHEAP);
    let (mut document, _, _) = open_ok(&request(&path), &["pw"]);
    document.lock().unwrap();
    assert!(matches!(&document.keys, Keys::Passphrase(Secret::Sealed(_))));
    document.save(b"saved while locked").unwrap();
    assert!(!document.unlock(b"p").unwrap());
    assert!(!document.unlock(b"pw ").unwrap());
    assert!(matches!(&document.keys, Keys::Passphrase(Secret::Sealed(_))), "a wrong passphrase unseals nothing");
    assert!(document.unlock(b"pw").unwrap());
    assert!(matches!(&document.keys, Keys::Passphrase(Secret::Open(_))));
    document.save(b"saved after unlocking").unwrap();
    assert_eq!(sedit_plaintext(&path, "pw"), b"saved after unlocking");
}

#[test]
fn a_file_changed_on_disk_is_not_overwritten_by_the_next_save() {
    let dir = TestDir::new("replaced");
    let path = dir.join("notes.sedit");
    sedit_file(&path, b"mine", "pw", &CHEAP);
    let (mut document, _, _) = open_ok(&request(&path), &["pw"]);
    document.save(b"mine, saved").unwrap();
    document.save(b"mine, saved again").unwrap(); // its own saves are no change on disk

    // Another program replaces the file (as editors do: a new file renamed over it).
    sedit_file(&dir.join("theirs"), b"theirs", "pw", &CHEAP);
    fs::rename(dir.join("theirs"), &path).unwrap();
    let message = document.save(b"mine again").unwrap_err();
    assert_eq!(message, format!("{} changed on disk since it was opened; save again to overwrite it", path.display()));
    assert_eq!(sedit_plaintext(&path, "pw"), b"theirs");
    document.save(b"mine again").unwrap();
    assert_eq!(sedit_plaintext(&path, "pw"), b"mine again");

    // Rewritten in place, or removed: the same.
    std::thread::sleep(Duration::from_millis(10)); // a new mtime even on coarse clocks
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(b"!").unwrap();
    drop(file);
    assert!(document.save(b"x").unwrap_err().contains("changed on disk"));
    document.save(b"x").unwrap();
    fs::remove_file(&path).unwrap();
    assert!(document.save(b"y").unwrap_err().contains("changed on disk"));
    document.save(b"y").unwrap();
    assert_eq!(sedit_plaintext(&path, "pw"), b"y");

    // A new file that appears before the first save.
    let fresh = dir.join("fresh.sedit");
    let (mut document, _, _) = open_ok(&request(&fresh), &["pw", "pw"]);
    fs::write(&fresh, b"someone else's").unwrap();
    assert!(document.save(b"z").unwrap_err().contains("changed on disk"));
    assert_eq!(fs::read(&fresh).unwrap(), b"someone else's");
}

#[test]
fn a_save_into_a_read_only_directory_fails_and_keeps_the_old_file() {
    let test = "a_save_into_a_read_only_directory_fails_and_keeps_the_old_file";
    let dir = TestDir::new("read-only");
    let path = dir.join("notes.sedit");
    sedit_file(&path, b"old", "pw", &CHEAP);
    let before = fs::read(&path).unwrap();
    let (mut document, _, _) = open_ok(&request(&path), &["pw"]);
    {
        let Some(_read_only) = ReadOnly::new(&dir.0) else {
            return skip(test, "this user writes into a mode-0500 directory and chattr +i failed");
        };
        let message = document.save(b"new").unwrap_err();
        assert!(message.starts_with(&format!("cannot save {}: ", path.display())), "{message}");
        assert!(message.contains("denied") || message.contains("not permitted"), "{message}");
        assert_eq!(fs::read(&path).unwrap(), before);
    }
    assert_eq!(dir.names(), ["notes.sedit"]);
    // The document is as it was: the next save (the directory writable again) just works.
    document.save(b"new").unwrap();
    assert_eq!(sedit_plaintext(&path, "pw"), b"new");
}

#[test]
fn import_encrypts_the_plaintext_file_at_once_and_leaves_it() {
    let dir = TestDir::new("import");
    let source = dir.join("plain.txt");
    fs::write(&source, b"imported text\n").unwrap();
    let path = dir.join("notes.sedit");
    let mut import = request(&path);
    import.import = Some(source.clone());
    let (mut document, plaintext, transcript) = open_ok(&import, &["pw", "pw"]);
    assert_eq!(plaintext, b"imported text\n");
    assert_eq!(sedit_plaintext(&path, "pw"), b"imported text\n");
    assert_eq!(fs::read(&source).unwrap(), b"imported text\n");
    assert_eq!(transcript.said("was not removed"), 1);
    document.save(b"edited").unwrap(); // the document knows the file it wrote

    // Never over an existing file, and not asking anything first.
    let (message, transcript) = open_err(&import, &[]);
    assert!(message.starts_with(&format!("{} exists", path.display())), "{message}");
    assert!(transcript.asked.is_empty());
    assert_eq!(sedit_plaintext(&path, "pw"), b"edited");
}

#[test]
fn a_file_over_1_gib_is_refused_unread() {
    let dir = TestDir::new("huge");
    let path = dir.join("huge.sedit");
    File::create(&path).unwrap().set_len(MAX_FILE + 1).unwrap(); // sparse: no disk used
    let (message, transcript) = open_err(&request(&path), &[]);
    assert!(message.contains("larger than 1 GiB"), "{message}");
    assert!(transcript.asked.is_empty());
    let mut import = request(&dir.join("new.sedit"));
    import.import = Some(path);
    let (message, _) = open_err(&import, &[]);
    assert!(message.contains("larger than 1 GiB"), "{message}");
}
