use toml::de::{DeTable, DeValue};
fn show(v: &toml::Spanned<DeValue<'_>>, src: &str, ind: usize) {
    let s = v.span();
    println!("{:ind$}{} span {:?} = {:?}", "", v.get_ref().type_str(), s, &src[s.clone()].chars().take(30).collect::<String>());
    match v.get_ref() {
        DeValue::Table(t) => for (k, v) in t.iter() { println!("{:ind$} key {:?} span {:?}", "", k.get_ref(), k.span()); show(v, src, ind+2) },
        DeValue::Array(a) => for v in a.iter() { show(v, src, ind+2) },
        _ => {}
    }
}
fn main() {
    let src = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let (t, errs) = DeTable::parse_recoverable(&src);
    for e in errs { println!("ERR {:?} {:?}", e.message(), e.span()); }
    let v = toml::Spanned::new(t.span(), DeValue::Table(t.into_inner()));
    show(&v, &src, 0);
}
