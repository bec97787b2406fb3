#!/usr/bin/env python3
"""Build the person-name HOLDOUT evaluation set (pairs.tsv + README.md).

Deterministic: plain python3, standard library only, fixed seed.
Native-script names were chosen from Faker's MIT-licensed name lists
(see README.md) and copied into the tables below; Latin spellings,
partner names for hard negatives, Urdu/Pashto names and all labels were
written by the accord project (Apache-2.0).

Run:  python3 build.py          (writes pairs.tsv and README.md next to it)
"""
import datetime
import os
import random
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_SEED = 7331          # seed for pairing, renderings and dates
FAKER_PICK_SEED = 20250611  # seed used once to draw candidates from Faker lists
FAKER_VERSION = "40.63.0"

# ---------------------------------------------------------------------------
# Arabic-script tables: native -> Latin spellings (first = BGN/PCGN-like,
# then press / passport / French / German practice).
# ---------------------------------------------------------------------------
AR_GIVEN_M = {
    'صخر': ['Sakhr', 'Sakher', 'Sakhar'],
    'نظمي': ['Nazmi', 'Nadhmi', 'Nazmy'],
    'راسم': ['Rasim', 'Rasem', 'Rassem'],
    'فواز': ['Fawwaz', 'Fawaz', 'Faouaz'],
    'مرعي': ["Mar'i", 'Marei', 'Marai'],
    'عزمي': ['Azmi', 'Azmy', "'Azmi"],
    'صهيب': ['Suhaib', 'Suhayb', 'Sohaib', 'Souhaib'],
    'طريف': ['Tarif', 'Tareef', 'Tarief'],
    'زيدان': ['Zaydan', 'Zaidan', 'Zeidan'],
    'نزار': ['Nizar', 'Nezar'],
    'عارف': ['Arif', 'Aref', 'Aaref'],
    'وجيه': ['Wajih', 'Wajeeh', 'Wagih', 'Ouajih'],
    'لؤي': ["Lu'ayy", 'Luay', 'Louai', 'Loay'],
    'وائل': ["Wa'il", 'Wael', 'Wail', 'Ouael'],
    'زايد': ['Zayid', 'Zayed', 'Zaied'],
    'صبحي': ['Subhi', 'Sobhi', 'Sobhy', 'Soubhi'],
    'همام': ['Humam', 'Homam', 'Hommam'],
    'رامز': ['Ramiz', 'Ramez', 'Rames'],
    'ميثاق': ['Mithaq', 'Methaq', 'Meethaq'],
    'فرحان': ['Farhan', 'Ferhan', 'Farhane'],
    'ناظم': ['Nazim', 'Nadhim', 'Nazem'],
    'واصف': ['Wasif', 'Wasef', 'Ouassef'],
    'مدحت': ['Midhat', 'Medhat', 'Madhat'],
    'مقداد': ['Miqdad', 'Muqdad', 'Mekdad', 'Meqdad'],
    'طلال': ['Talal', 'Talaal'],
    'قحطان': ['Qahtan', 'Kahtan', 'Gahtan'],
    'مياس': ['Mayyas', 'Mayas', 'Mayass'],
    'فراس': ['Firas', 'Feras', 'Ferass'],
    'قدري': ['Qadri', 'Kadri', 'Qadry'],
    'نشأت': ["Nash'at", 'Nashat', 'Nashaat', 'Nachaat'],
    'عاكف': ['Akif', 'Akef', "'Akif"],
    'منتصر': ['Muntasir', 'Montaser', 'Muntaser', 'Montassar'],
    'لقمان': ['Luqman', 'Loqman', 'Lokman', 'Lukman'],
}
AR_GIVEN_F = {
    'آلاء': ["Ala'", 'Alaa', 'Ala'],
    'أسيل': ['Asil', 'Aseel', 'Assil'],
    'رواء': ["Rawa'", 'Rawaa', 'Rawa'],
    'أفنان': ['Afnan', 'Afnane'],
    'روفيدا': ['Rufayda', 'Rufaida', 'Rofayda', 'Roufaida'],
    'سلسبيل': ['Salsabil', 'Salsabeel'],
    'بتول': ['Batul', 'Batoul', 'Batool'],
    'جيلان': ['Jilan', 'Jeelan', 'Gilane'],
    'ابتهال': ['Ibtihal', 'Ebtehal', 'Ibtehal'],
    'جمان': ['Juman', 'Joumane', 'Jumaan'],
    'بيسان': ['Baysan', 'Bisan', 'Beesan', 'Baisan'],
    'أروى': ['Arwa', 'Aroua', 'Arwah'],
    'هيام': ['Hiyam', 'Hiam', 'Hyam'],
    'دانية': ['Daniya', 'Dania', 'Daniyah'],
    'هنادي': ['Hanadi', 'Hanady'],
    'كرمة': ['Karma', 'Karmah'],
    'بلسم': ['Balsam', 'Balsem'],
    'ضحى': ['Duha', 'Doha', 'Douha', 'Dhuha'],
    'بشرى': ['Bushra', 'Boushra', 'Bouchra'],
    'جواهر': ['Jawahir', 'Jawaher', 'Gawaher'],
}
AR_FAMILY = {
    'الديسي': ['al-Disi', 'Al Disi', 'Aldisi', 'El Dissi'],
    'العارف': ['al-Arif', 'Al Aref', 'Alaref', 'El Aref'],
    'البغدادي': ['al-Baghdadi', 'Al Baghdadi', 'Albaghdadi', 'El Baghdadi'],
    'الشاويش': ['al-Shawish', 'Al Shaweesh', 'Alshawish', 'Chaouich'],
    'درويش': ['Darwish', 'Darwich', 'Darweesh', 'Derwisch'],
    'الطحان': ['al-Tahhan', 'Al Tahan', 'Altahhan', 'El Tahan'],
    'التوتنجي': ['al-Tutunji', 'Al Totonji', 'Altutunji', 'Tutundschi'],
    'العقيل': ['al-Aqil', 'Al Aqeel', 'Alaqeel', 'Al Akeel'],
    'العجلان': ['al-Ajlan', 'Al Ajlan', 'Alajlan', 'Al Ejlan'],
    'الخرافي': ['al-Kharafi', 'Al Kharafi', 'Alkharafi', 'El Kharafi'],
    'المهنا': ['al-Muhanna', 'Al Mehanna', 'Almuhanna', 'Al Mohanna'],
    'الراشد': ['al-Rashid', 'Al Rashed', 'Alrashed', 'Er-Rached'],
    'المهيدب': ['al-Muhaydib', 'Al Muhaidib', 'Almuhaidib', 'Al Mohaideb'],
    'الدباغ': ['al-Dabbagh', 'Al Dabbagh', 'Aldabbagh', 'Dabbagh'],
    'الجفالي': ['al-Juffali', 'Al Jaffali', 'Aljuffali', 'Juffali'],
    'الشايع': ["al-Shaya'", 'Al Shaya', 'Alshaya', 'Al Shayea'],
    'العليان': ['al-Ulayyan', 'Al Olayan', 'Alolayan', 'Olayan'],
    'شاهين': ['Shahin', 'Shaheen', 'Chahine', 'Schahin'],
    'طوقان': ['Tuqan', 'Toukan', 'Touqan', 'Tukan'],
    'خوري': ['Khuri', 'Khoury', 'Khouri', 'Chouri'],
    'الصالحي': ['al-Salihi', 'Al Salhi', 'Alsalhi', 'Es-Salhi'],
    'الجنيدي': ['al-Junaydi', 'Al Junaidi', 'Aljunaidi', 'El Jneidi'],
    'الزيتاوي': ['al-Zaytawi', 'Al Zeitawi', 'Alzaitawi', 'Zeitawi'],
    'الحسيني': ['al-Husayni', 'Al Husseini', 'Alhusseini', 'El Husseini'],
    'البرغوثي': ['al-Barghuthi', 'Barghouti', 'Barghouthi', 'Barguti'],
    'النشاشيبي': ['al-Nashashibi', 'Nashashibi', 'Nachachibi'],
    'السكاكيني': ['al-Sakakini', 'Sakakini', 'Sakakeeni'],
    'الخياط': ['al-Khayyat', 'Al Khayat', 'Alkhayat', 'El Khayat'],
    'التميمي': ['al-Tamimi', 'Al Tamimi', 'Altamimi', 'Tamimi', 'Et-Tamimi'],
    'جرار': ['Jarrar', 'Jarar', 'Djarrar'],
    'أبو غليون': ['Abu Ghalyun', 'Abu Ghalioun', 'Abughalyoun', 'Abou Ghalioun'],
    'كسواني': ['Kiswani', 'Kaswani', 'Keswani'],
    'دغمش': ['Dughmush', 'Doghmosh', 'Dughmosh'],
    'فطاير': ['Fatayir', 'Fatayer', 'Fatair'],
}
# partners for hard negatives (written by us, not from Faker)
AR_PARTNER_GIVEN = {
    'فارس': ['Faris', 'Fares'], 'نزيه': ['Nazih', 'Nazeeh'], 'نديم': ['Nadim', 'Nadeem'],
    'رامي': ['Rami', 'Ramy'], 'عاطف': ['Atif', 'Atef'], 'صبري': ['Sabri', 'Sabry'],
    'زياد': ['Ziyad', 'Ziad', 'Zyad'], 'زيد': ['Zayd', 'Zaid', 'Zeid'],
    'منتظر': ['Muntazar', 'Montazer', 'Muntadhar'], 'وليد': ['Walid', 'Waleed', 'Oualid'],
    'بثينة': ['Buthayna', 'Bothaina', 'Boussaina'], 'هيا': ['Haya', 'Haia'],
    'دانة': ['Dana', 'Danah'], 'جمانة': ['Jumana', 'Joumana'], 'بسمة': ['Basma', 'Bassma'],
    'أسماء': ["Asma'", 'Asmaa', 'Asma'],
}
AR_PARTNER_FAMILY = {
    'الحسني': ['al-Hasani', 'Al Hassani', 'Alhasani', 'El Hassani'],
    'دراوشة': ['Darawsha', 'Darawsheh', 'Darawshe'],
    'الخطاط': ['al-Khattat', 'Al Khattat', 'Alkhattat'],
    'الدباس': ['al-Dabbas', 'Al Dabbas', 'Aldabbas'],
    'الرشيد': ['al-Rasheed', 'Al Rasheed', 'Alrasheed'],
    'العقيلي': ['al-Aqili', 'Al Aqeeli', 'Alaqeeli', 'Al Akili'],
    'شهاب': ['Shihab', 'Shehab', 'Chehab'],
    'جرادات': ['Jaradat', 'Jaradath'],
    'خولي': ['Khuli', 'Khouly', 'Kholi'],
    'الزيتوني': ['al-Zaytuni', 'Al Zaitouni', 'Zitouni'],
    'الصالح': ['al-Salih', 'Al Saleh', 'Alsaleh', 'Saleh'],
}
AR_CONF_GIVEN = [('فراس', 'فارس'), ('نزار', 'نزيه'), ('ناظم', 'نديم'), ('رامز', 'رامي'),
                 ('عارف', 'عاطف'), ('صبحي', 'صبري'), ('زايد', 'زياد'), ('زيدان', 'زيد'),
                 ('منتصر', 'منتظر'), ('وائل', 'وليد'), ('بتول', 'بثينة'), ('هيام', 'هيا'),
                 ('دانية', 'دانة'), ('جمان', 'جمانة'), ('بشرى', 'بسمة'), ('أسيل', 'أسماء')]
AR_CONF_FAMILY = [('الحسيني', 'الحسني'), ('درويش', 'دراوشة'), ('الخياط', 'الخطاط'),
                  ('الدباغ', 'الدباس'), ('الراشد', 'الرشيد'), ('العقيل', 'العقيلي'),
                  ('شاهين', 'شهاب'), ('جرار', 'جرادات'), ('خوري', 'خولي'),
                  ('الزيتاوي', 'الزيتوني'), ('الصالحي', 'الصالح')]

FA_GIVEN_M = {
    'آرین': ['Arian', 'Aryan', 'Ariyan'], 'عرفان': ['Erfan', 'Irfan'],
    'پرهام': ['Parham', 'Parhaam'], 'کیان': ['Kian', 'Kiyan'], 'طاها': ['Taha', 'Tahaa'],
    'دانیال': ['Danial', 'Daniyal', 'Danyal'], 'مبین': ['Mobin', 'Mubin', 'Mobeen'],
    'سامیار': ['Samyar', 'Samiar', 'Samiyar'], 'آرش': ['Arash', 'Arache'],
    'ایلیا': ['Iliya', 'Ilia', 'Elia'], 'حسام': ['Hesam', 'Hessam', 'Hisam'],
    'ماهان': ['Mahan', 'Mahaan'], 'نیما': ['Nima', 'Neema'],
    'ابوالفضل': ['Abolfazl', 'Abulfazl', 'Abol Fazl', 'Abolfazel'],
    'امیرعباس': ['Amirabbas', 'Amir Abbas', 'Amir-Abbas', 'Amirabas'],
    'محمدپارسا': ['Mohammadparsa', 'Mohammad Parsa', 'Mohamadparsa', 'Mohammad-Parsa'],
    'سبحان': ['Sobhan', 'Subhan'], 'پارسا': ['Parsa', 'Parssa'], 'عباس': ['Abbas', 'Abas'],
}
FA_GIVEN_F = {
    'ثنا': ['Sana', 'Sanaa'], 'محیا': ['Mahya', 'Mahia', 'Mahiya'],
    'ملیکا': ['Melika', 'Malika', 'Melica'], 'مهدیس': ['Mahdis', 'Mahdiss'],
    'نیایش': ['Niayesh', 'Niyayesh', 'Niaiesh'], 'کیانا': ['Kiana', 'Kiyana'],
    'یسنا': ['Yasna', 'Yassna'], 'مائده': ['Maedeh', 'Maede', "Ma'edeh", 'Maideh'],
    'آیلین': ['Aylin', 'Ailin', 'Ayleen'], 'حلما': ['Helma', 'Halma'], 'رها': ['Raha', 'Rahaa'],
    'آیناز': ['Aynaz', 'Ainaz'], 'هستی': ['Hasti', 'Hasty'], 'نرگس': ['Narges', 'Nargis', 'Nargess'],
    'کوثر': ['Kowsar', 'Kosar', 'Kousar', 'Kawsar'], 'هانیه': ['Haniyeh', 'Hanieh', 'Haniye'],
    'پرنیا': ['Parnia', 'Parniya'], 'معصومه': ['Masoumeh', 'Masumeh', "Ma'sumeh", 'Massoumeh'],
    'محدثه': ['Mohaddeseh', 'Mohadeseh', 'Mohadese'], 'حنانه': ['Hananeh', 'Hanane'],
    'آیدا': ['Aida', 'Ayda'],
}
FA_FAMILY = {
    'تحسینی': ['Tahsini', 'Tahsiny'], 'ایروانی': ['Iravani', 'Irvani', 'Irwani'],
    'منصوری': ['Mansouri', 'Mansuri', 'Mansoori'], 'عزیزی': ['Azizi', 'Azizy'],
    'مجتهدی': ['Mojtahedi', 'Mujtahidi', 'Modjtahedi'], 'ضابطی': ['Zabeti', 'Zabety', 'Dhabeti'],
    'شاکری': ['Shakeri', 'Chakeri', 'Schakeri'], 'کرمانی': ['Kermani', 'Kirmani'],
    'تهرانی': ['Tehrani', 'Teherani'], 'فرجی': ['Faraji', 'Faradji', 'Faradschi'],
    'کمالی': ['Kamali', 'Kamaly'], 'اکبرپور': ['Akbarpour', 'Akbarpur', 'Akbar Pour', 'Akbarpoor'],
    'قاضی': ['Ghazi', 'Qazi', 'Qadi'], 'بهمنی': ['Bahmani', 'Bahmany'],
    'نوبختی': ['Nobakhti', 'Noubakhti', 'Nowbakhti'], 'صارمی': ['Saremi', 'Saremy'],
    'نعمتی': ['Nemati', "Ne'mati", 'Neamati'], 'سعیدی': ['Saeidi', 'Saeedi', 'Saidi'],
    'رسولی': ['Rasouli', 'Rasuli', 'Rassouli'], 'حریریان': ['Haririan', 'Hariryan'],
    'الوندی': ['Alvandi', 'Alwandi'], 'محجوب': ['Mahjoub', 'Mahjub', 'Mahdjoub'],
    'لاچینی': ['Lachini', 'Latchini'], 'جنتی': ['Jannati', 'Janati', 'Djannati'],
    'یزدی': ['Yazdi', 'Yasdi'], 'ظفری': ['Zafari', 'Zafary'], 'سلطانی': ['Soltani', 'Sultani'],
    'نوروزی': ['Nowruzi', 'Norouzi', 'Nourouzi', 'Nowroozi'], 'جلالی': ['Jalali', 'Djalali', 'Dschalali'],
}
FA_PARTNER_GIVEN = {
    'آرمین': ['Armin'], 'کیمیا': ['Kimia', 'Kimiya'], 'مهدیه': ['Mahdieh', 'Mahdiyeh', 'Mahdiye'],
    'هاله': ['Haleh', 'Hale'], 'ماهیار': ['Mahyar', 'Mahiar'], 'مهسا': ['Mahsa', 'Mahssa'],
    'سینا': ['Sina'], 'متین': ['Matin', 'Mateen'], 'سامان': ['Saman', 'Samaan'],
}
FA_PARTNER_FAMILY = {
    'منصور': ['Mansour', 'Mansur'], 'عزیزیان': ['Azizian', 'Aziziyan'],
    'کرمانشاهی': ['Kermanshahi', 'Kermanchahi'], 'تهرانچی': ['Tehranchi', 'Teheranchi'],
    'رسول\u200cزاده': ['Rasoulzadeh', 'Rasulzade', 'Rassoulzadeh'], 'جلیلی': ['Jalili', 'Djalili'],
    'سلطانیان': ['Soltanian', 'Sultanian'], 'نوری': ['Nouri', 'Nuri', 'Noori'],
    'کمالوند': ['Kamalvand', 'Kamalwand'], 'یزدانی': ['Yazdani', 'Yasdani'],
    'سعادتی': ['Saadati', "Sa'adati"], 'شاکر': ['Shaker', 'Chaker'],
}
FA_CONF_GIVEN = [('آرین', 'آرمین'), ('کیانا', 'کیمیا'), ('مائده', 'مهدیه'), ('هانیه', 'هاله'),
                 ('ماهان', 'ماهیار'), ('پارسا', 'پرهام'), ('محیا', 'مهسا'), ('نیما', 'سینا'),
                 ('مبین', 'متین'), ('سامیار', 'سامان'), ('آیدا', 'آیناز')]
FA_CONF_FAMILY = [('منصوری', 'منصور'), ('عزیزی', 'عزیزیان'), ('کرمانی', 'کرمانشاهی'),
                  ('تهرانی', 'تهرانچی'), ('رسولی', 'رسول\u200cزاده'), ('جلالی', 'جلیلی'),
                  ('سلطانی', 'سلطانیان'), ('نوروزی', 'نوری'), ('کمالی', 'کمالوند'),
                  ('یزدی', 'یزدانی'), ('سعیدی', 'سعادتی'), ('شاکری', 'شاکر')]

# Urdu (Pakistan, ہ/ی/ے orthography) and Pashto (Afghanistan) - written by us
UR_GIVEN_M = {
    'شہزاد': ['Shahzad', 'Shehzad', 'Shahzaad'], 'ذیشان': ['Zeeshan', 'Zishan', 'Zeshan'],
    'کامران': ['Kamran', 'Kamraan'], 'وقاص': ['Waqas', 'Waqqas', 'Vakas'],
    'جنید': ['Junaid', 'Junayd', 'Juned'], 'نوید': ['Naveed', 'Navid', 'Nawid'],
    'طارق': ['Tariq', 'Tarik', 'Tareq'], 'سہیل': ['Sohail', 'Suhail', 'Sohel'],
    'فیصل': ['Faisal', 'Faysal', 'Fayssal'], 'عثمان': ['Usman', 'Osman', 'Uthman'],
    'بلال': ['Bilal', 'Belal'], 'عدنان': ['Adnan', 'Adnaan'],
}
UR_GIVEN_F = {
    'عائشہ': ['Ayesha', 'Aisha', 'Aysha'], 'ثمینہ': ['Samina', 'Sameena', 'Saminah'],
    'نسرین': ['Nasreen', 'Nasrin'], 'رخسانہ': ['Rukhsana', 'Rukhsanah', 'Rokhsana'],
    'شبانہ': ['Shabana', 'Shabanah'], 'نازیہ': ['Nazia', 'Naziya'],
    'فرزانہ': ['Farzana', 'Farzanah'], 'شکیلہ': ['Shakila', 'Shakeela'], 'ناہید': ['Nahid', 'Naheed'],
}
UR_FAMILY = {
    'قریشی': ['Qureshi', 'Quraishi', 'Kureshi'],
    'چودھری': ['Chaudhry', 'Chaudhary', 'Choudhury', 'Chowdhury'],
    'بٹ': ['Butt', 'But'], 'ملک': ['Malik', 'Malick'], 'راجپوت': ['Rajput', 'Rajpoot'],
    'ستی': ['Satti', 'Sati'], 'اعوان': ['Awan', 'Awaan'], 'گوندل': ['Gondal', 'Gondel'],
    'خٹک': ['Khattak', 'Khatak'], 'نیازی': ['Niazi', 'Niyazi'],
}
UR_MIDDLE = {'احمد': ['Ahmad', 'Ahmed'], 'علی': ['Ali']}
PS_GIVEN_M = {
    'ګلبدین': ['Gulbuddin', 'Golbodin', 'Gulbudin'],
    'نجیب الله': ['Najibullah', 'Najib Ullah', 'Najeebullah', 'Nadschibullah'],
    'حکمت الله': ['Hekmatullah', 'Hikmatullah', 'Hekmatulla'],
    'ذبیح الله': ['Zabihullah', 'Zabiullah', 'Zabeehullah'],
    'رحمت الله': ['Rahmatullah', 'Rahmat Ullah', 'Rahmatulla'],
    'سمیع الله': ['Samiullah', 'Sami Ullah', 'Samiulla'],
    'اجمل': ['Ajmal', 'Adschmal'], 'وحید': ['Wahid', 'Waheed', 'Vahid'],
    'نورالله': ['Noorullah', 'Nurullah', 'Nourullah'], 'شفیق': ['Shafiq', 'Shafeeq', 'Shafik'],
    'میرویس': ['Mirwais', 'Mir Wais', 'Mirweis'], 'خالد': ['Khalid', 'Khaled'],
}
PS_GIVEN_F = {
    'زرمینه': ['Zarmina', 'Zarmeena'], 'پلوشه': ['Palwasha', 'Palwashah'],
    'ګلالۍ': ['Gulalai', 'Gulalay', 'Gulalei'], 'شکریه': ['Shukria', 'Shukriya', 'Shokria'],
    'فرشته': ['Farishta', 'Fereshta', 'Freshta'], 'ناجیه': ['Najia', 'Najiya'],
    'مرسل': ['Mursal', 'Morsal'], 'هیله': ['Hila', 'Heela'],
}
PS_FAMILY = {
    'یوسفزی': ['Yousafzai', 'Yusufzai', 'Yousufzai', 'Yusafzay'], 'مومند': ['Mohmand', 'Momand'],
    'شینواری': ['Shinwari', 'Shinwary', 'Schinwari'], 'کاکړ': ['Kakar', 'Kakkar'],
    'اڅکزی': ['Achakzai', 'Atchakzai', 'Achekzai'], 'پوپلزی': ['Popalzai', 'Popalzay', 'Popolzai'],
    'بارکزی': ['Barakzai', 'Barekzai', 'Barakzay'], 'وردګ': ['Wardak', 'Wardag'],
    'ستانکزی': ['Stanikzai', 'Stanekzai', 'Stanakzai'], 'نورزی': ['Noorzai', 'Nurzai', 'Noorzay'],
    'احمدزی': ['Ahmadzai', 'Ahmedzai', 'Ahmadzay'], 'ځدراڼ': ['Zadran', 'Dzadran', 'Zadraan'],
    'اپریدی': ['Afridi', 'Apridi', 'Afreedi'],
}
PS_MIDDLE = {'خان': ['Khan'], 'جان': ['Jan', 'Jaan'], 'ګل': ['Gul', 'Gol']}
URPS_PARTNER = {
    'حبیب الله': ['Habibullah', 'Habib Ullah', 'Habeebullah'], 'ثناء الله': ['Sanaullah', 'Sana Ullah'],
    'ضیاء الله': ['Ziaullah', 'Zia Ullah'], 'نصرالله': ['Nasrullah', 'Nasrulla'],
    'ندیم': ['Nadeem', 'Nadim'], 'شہزیب': ['Shahzaib', 'Shahzeb'], 'صائمہ': ['Saima', 'Saimah'],
    'نازنین': ['Nazneen', 'Naznin'], 'شبنم': ['Shabnam', 'Shabnum'], 'فرحانہ': ['Farhana', 'Farhanah'],
    'واجد': ['Wajid', 'Wajed'],
    'کاکاخېل': ['Kakakhel', 'Kaka Khel'], 'یوسفی': ['Yousufi', 'Yusufi'],
    'محمود': ['Mahmood', 'Mahmud', 'Mahmoud'], 'بھٹی': ['Bhatti', 'Bhati'],
    'سیٹھی': ['Sethi', 'Seethi'], 'خطاب': ['Khattab', 'Khatab'], 'قاضی': ['Qazi', 'Kazi'],
}
URPS_CONF_GIVEN = [('نجیب الله', 'حبیب الله'), ('سمیع الله', 'ثناء الله'), ('رحمت الله', 'حکمت الله'),
                   ('ذبیح الله', 'ضیاء الله'), ('نورالله', 'نصرالله'), ('نوید', 'ندیم'),
                   ('شہزاد', 'شہزیب'), ('ثمینہ', 'صائمہ'), ('نسرین', 'نازنین'), ('شبانہ', 'شبنم'),
                   ('فرزانہ', 'فرحانہ'), ('وحید', 'واجد')]
URPS_CONF_FAMILY = [('اڅکزی', 'احمدزی'), ('پوپلزی', 'بارکزی'), ('کاکړ', 'کاکاخېل'), ('بٹ', 'بھٹی'),
                    ('ستی', 'سیٹھی'), ('خٹک', 'خطاب'), ('نورزی', 'نیازی'), ('یوسفزی', 'یوسفی'),
                    ('قریشی', 'قاضی'), ('مومند', 'محمود')]

# ---------------------------------------------------------------------------
# Cyrillic (Russian + Ukrainian), from Faker ru_RU / uk_UA; Latin by rule.
# ---------------------------------------------------------------------------
RU_GIVEN_M = ['Велимир', 'Арсений', 'Порфирий', 'Еремей', 'Исидор', 'Куприян', 'Эраст', 'Силантий',
              'Венедикт', 'Ювеналий', 'Борислав', 'Михей', 'Станимир', 'Кондрат', 'Филимон',
              'Панкратий', 'Леонтий']
RU_GIVEN_F = ['Полина', 'Олимпиада', 'Кира', 'Евпраксия', 'Агафья', 'Алевтина', 'Феврония', 'Клавдия',
              'Ульяна', 'Акулина', 'Василиса', 'Евдокия', 'Марфа', 'Ксения', 'Глафира']
RU_FAMILY_M = ['Миронов', 'Беляев', 'Кабанов', 'Рожков', 'Якушев', 'Сазонов', 'Кудрявцев', 'Пестов',
               'Жданов', 'Терентьев', 'Бирюков', 'Силин', 'Колобов', 'Фадеев', 'Беспалов', 'Некрасов',
               'Дьячков', 'Белоусов', 'Доронин', 'Субботин', 'Фомичев', 'Воронцов', 'Ситников',
               'Шашков', 'Блохин', 'Белозеров', 'Мясников', 'Юдин', 'Муравьев', 'Зиновьев']
RU_PATR_M = ['Эдуардович', 'Герасимович', 'Ефремович', 'Анатольевич', 'Денисович', 'Викторович',
             'Архипович', 'Германович', 'Харитонович', 'Глебович']
RU_PATR_F = ['Оскаровна', 'Георгиевна', 'Яковлевна', 'Леонидовна', 'Мироновна', 'Аркадьевна',
             'Афанасьевна', 'Макаровна', 'Даниловна', 'Тимофеевна']
RU_CONF_FAMILY = [('Беляев', 'Беляков'), ('Кабанов', 'Кабаков'), ('Рожков', 'Рожнов'),
                  ('Сазонов', 'Сазанов'), ('Пестов', 'Песков'), ('Силин', 'Силкин'),
                  ('Колобов', 'Колобков'), ('Фадеев', 'Федяев'), ('Дьячков', 'Дьяков'),
                  ('Шашков', 'Шишков'), ('Юдин', 'Юдкин'), ('Блохин', 'Блохинцев')]
RU_CONF_GIVEN = [('Арсений', 'Арсентий'), ('Еремей', 'Елисей'), ('Исидор', 'Сидор'), ('Эраст', 'Эрнест'),
                 ('Филимон', 'Филипп'), ('Леонтий', 'Леонид'), ('Михей', 'Михаил'),
                 ('Венедикт', 'Викентий'), ('Полина', 'Галина'), ('Алевтина', 'Валентина'),
                 ('Евдокия', 'Евгения'), ('Ксения', 'Есения'), ('Марфа', 'Марта'), ('Василиса', 'Василина')]
UK_GIVEN_M = ['Тимофій', 'Тарас', 'Юстим', 'Мирон', 'Ростислав', 'Демʼян', 'Ярема', 'Єлисей', 'Орест',
              'Онисим', 'Гаврило', 'Левко', 'Дмитро', 'Охрім', 'Гордій']
UK_GIVEN_F = ['Сніжана', 'Єва', 'Марʼяна', 'Тетяна', 'Златослава', 'Михайлина', 'Орина', 'Орися',
              'Роксолана', 'Соломія', 'Одарка', 'Ярина', 'Ганна', 'Надія']
UK_FAMILY = ['Стельмах', 'Сацюк', 'Височан', 'Кабаненко', 'Палій', 'Ковпак', 'Яременко', 'Калениченко',
             'Ільченко', 'Корбут', 'Ґерус', 'Артимишин', 'Якимчук', 'Штепа', 'Охримович', 'Корпанюк',
             'Макогон', 'Вернигора', 'Тригуб', 'Дробаха', 'Іващенко', 'Приймак', 'Шеремет',
             'Гаврилець', 'Пустовіт', 'Журба', 'Згурський']
UK_FAMILY_GENDERED = {'Непорожній': 'Непорожня', 'Деряжний': 'Деряжна', 'Згурський': 'Згурська',
                      'Ковальський': 'Ковальська'}
UK_PATR_M = ['Ярославович', 'Опанасович', 'Тимофійович', 'Богуславович', 'Кирилович', 'Степанович',
             'Макарович', 'Назарович']
UK_PATR_F = ['Симонівна', 'Стефанівна', 'Пилипівна', 'Омелянівна', 'Демидівна', 'Федорівна',
             'Миколаївна', 'Захарівна']
UK_CONF_FAMILY = [('Кабаненко', 'Кабанець'), ('Яременко', 'Яремчук'), ('Ільченко', 'Ільчук'),
                  ('Якимчук', 'Якимець'), ('Іващенко', 'Іваненко'), ('Корпанюк', 'Корпан'),
                  ('Гаврилець', 'Гавриленко'), ('Приймак', 'Приймаченко')]
UK_CONF_GIVEN = [('Тимофій', 'Трохим'), ('Мирон', 'Мирослав'), ('Орест', 'Остап'), ('Ярема', 'Ярослав'),
                 ('Гордій', 'Григорій'), ('Орина', 'Ірина'), ('Орися', 'Олеся'), ('Тетяна', 'Тереза')]
# Ukrainian name vs the Russian form found in Soviet-era / Russian-issued documents
UK_RU_FORM = {'Дмитро': 'Дмитрий', 'Тимофій': 'Тимофей', 'Гаврило': 'Гавриил', 'Тетяна': 'Татьяна',
              'Ганна': 'Анна', 'Охрім': 'Ефрем'}
CYRL_GENDER = [('Евгений', 'Евгения', 'ru'), ('Александр', 'Александра', 'ru'),
               ('Валентин', 'Валентина', 'ru'), ('Ярослав', 'Ярослава', 'ru'),
               ('Станислав', 'Станислава', 'ru'), ('Ян', 'Яна', 'ru'), ('Саша', 'Саша', 'ru'),
               ('Женя', 'Женя', 'ru'), ('Богдан', 'Богдана', 'uk'), ('Олександр', 'Олександра', 'uk'),
               ('Мирослав', 'Мирослава', 'uk')]

# ---------------------------------------------------------------------------
# Greek, from Faker el_GR; Latin by rule (ELOT 743 / press / phonetic).
# ---------------------------------------------------------------------------
EL_GIVEN_M = ['Θεόδωρος', 'Νεκτάριος', 'Σταύρος', 'Παναγιώτης', 'Θεμιστοκλής', 'Ιάσονας', 'Θεοφάνης',
              'Χαρίλαος', 'Νικηφόρος', 'Ευστάθιος', 'Γεράσιμος', 'Ανάργυρος', 'Φωκίων', 'Κορνήλιος',
              'Ιπποκράτης', 'Δωρόθεος', 'Αριστόβουλος']
EL_GIVEN_F = ['Ευανθία', 'Ανδρονίκη', 'Ασπασία', 'Λαμπρινή', 'Μεταξία', 'Πηνελόπη', 'Αμαλία', 'Λουκία',
              'Θέκλα', 'Ευμορφία', 'Αφροδίτη', 'Σεβαστιανή', 'Αργυρούλα', 'Παρθένα']
EL_FAMILY_M = ['Δανέζης', 'Καψάλης', 'Ζαφείρης', 'Γιαννακόπουλος', 'Δρακόπουλος', 'Ανδρεανίδης',
               'Ασαρίδης', 'Σκορδάκης', 'Μπραζιώτης', 'Τσέλιος', 'Καραδήμος', 'Νικητόπουλος',
               'Φανουργάκης', 'Κραββαρίτης', 'Μελιτσόπουλος', 'Τσαμαδός', 'Γκικόπουλος', 'Ζηδιανάκης',
               'Λέλεκας', 'Γκούβελος', 'Μπίλλας', 'Παπαθανασίου', 'Βαρσάμης', 'Τάσιος', 'Νάστος']
EL_FATHER = ['Γεωργίου', 'Ιωάννου', 'Δημητρίου', 'Νικολάου', 'Κωνσταντίνου', 'Αθανασίου']
EL_CONF_FAMILY = [('Δρακόπουλος', 'Δρακάκης'), ('Καψάλης', 'Καψάλας'), ('Ζαφείρης', 'Ζαφειρίου'),
                  ('Σκορδάκης', 'Σκορδίλης'), ('Τσέλιος', 'Τσέλλος'), ('Καραδήμος', 'Καραδήμας'),
                  ('Νικητόπουλος', 'Νικολόπουλος'), ('Γιαννακόπουλος', 'Γιαννόπουλος'),
                  ('Ασαρίδης', 'Ασλανίδης'), ('Λέλεκας', 'Λέκκας'), ('Νάστος', 'Νάτσος')]
EL_CONF_GIVEN = [('Θεόδωρος', 'Θεόδοτος'), ('Σταύρος', 'Σπύρος'), ('Χαρίλαος', 'Χαράλαμπος'),
                 ('Ευστάθιος', 'Ευστράτιος'), ('Ιάσονας', 'Ιάκωβος'), ('Θεοφάνης', 'Επιφάνης'),
                 ('Ασπασία', 'Αναστασία'), ('Αμαλία', 'Ναταλία'), ('Λουκία', 'Λυδία'),
                 ('Ευανθία', 'Ευθαλία'), ('Ευμορφία', 'Ευφροσύνη')]
EL_GENDER = [('Ευγένιος', 'Ευγενία'), ('Αλέξανδρος', 'Αλεξάνδρα'), ('Ιωάννης', 'Ιωάννα'),
             ('Φίλιππος', 'Φιλίππα'), ('Σταύρος', 'Σταυρούλα'), ('Κωνσταντίνος', 'Κωνσταντίνα'),
             ('Θεόδωρος', 'Θεοδώρα'), ('Παναγιώτης', 'Παναγιώτα'), ('Βασίλειος', 'Βασιλική')]
EL_FORMAL = {'Ιωάννης': 'Γιάννης', 'Γεώργιος': 'Γιώργος'}

# ---------------------------------------------------------------------------
# Turkish, from Faker tr_TR.
# ---------------------------------------------------------------------------
TR_GIVEN_M = ['Yalgın', 'Satrettin', 'Baturay', 'Sökmen', 'Abdulkadir', 'Yıldır', 'Ertün', 'Onurcan',
              'Sulhi', 'Bozerk', 'Özger', 'Nurettin', 'Danış', 'Derkay', 'Işıkay', 'Aydınç', 'Eryıldız',
              'Kayrabay', 'Yücelen', 'Aksay']
TR_GIVEN_F = ['Gülseren', 'Aysevim', 'Şeyda', 'Hasret', 'Berrin', 'Mehrigül', 'Gülgen', 'Esengün',
              'Hayrünnisa', 'Nihan', 'Bilginur', 'Badegül', 'Gülhisar', 'Örfiye', 'Zeyno']
TR_FAMILY = ['Hayrioğlu', 'Güçlü', 'Akça', 'Şener', 'Tarhan', 'Alemdar', 'Sezgin', 'Çamurcuoğlu',
             'Hançer', 'Çorlu', 'Çetin', 'Fırat', 'Ülker', 'Mansız', 'Dumanlı', 'Şafak', 'Akgündüz',
             'Şensoy', 'Kısakürek', 'Tevetoğlu', 'Yıldırım', 'Durdu', 'Bilgin', 'Sakarya']
TR_ALT = {'Satrettin': ['Sadrettin', 'Sadreddin'], 'Abdulkadir': ['Abdülkadir', 'Abdul Kadir'],
          'Nurettin': ['Nureddin', 'Nurettin'], 'Hayrünnisa': ['Hayrunnisa', 'Hayrünnissa']}
TR_CONF_FAMILY = [('Akça', 'Akçay'), ('Şener', 'Şeker'), ('Tarhan', 'Tarkan'), ('Sezgin', 'Sezen'),
                  ('Çetin', 'Çetinkaya'), ('Fırat', 'Fıratlı'), ('Dumanlı', 'Dumlu'), ('Şafak', 'Şafaklı'),
                  ('Alemdar', 'Alemdaroğlu'), ('Şensoy', 'Ersoy'), ('Güçlü', 'Güçlüer'),
                  ('Bilgin', 'Bilgen'), ('Durdu', 'Durmuş'), ('Çorlu', 'Çoruh')]
TR_CONF_GIVEN = [('Onurcan', 'Onur'), ('Berrin', 'Berin'), ('Nihan', 'Nilhan'), ('Şeyda', 'Şeyma'),
                 ('Gülseren', 'Gülsen'), ('Aysevim', 'Aysel'), ('Yalgın', 'Yalçın'), ('Ertün', 'Ertan'),
                 ('Derkay', 'Berkay'), ('Özger', 'Özgür'), ('Baturay', 'Batuhan'), ('Sulhi', 'Suphi'),
                 ('Danış', 'Barış')]

# ---------------------------------------------------------------------------
# Other Latin-script names (Faker pl_PL, cs_CZ, de_DE, es_ES, hu_HU, ro_RO
# given names / surnames; Polish surnames written by us).
# (given, family, origin); hu = family-first in native order.
# ---------------------------------------------------------------------------
LATN_PERSONS = [
    ('Radosław', 'Wróblewski', 'pl'), ('Miłosz', 'Jabłoński', 'pl'), ('Przemysław', 'Szczęsny', 'pl'),
    ('Agnieszka', 'Łukasiewicz', 'pl'), ('Lumír', 'Kratochvíl', 'cs'), ('Bohumír', 'Pospíšil', 'cs'),
    ('Štěpánka', 'Kučerová', 'cs'), ('Naděžda', 'Křížová', 'cs'), ('Gotthold', 'Süßebier', 'de'),
    ('Ekkehart', 'Köster', 'de'), ('Adolfine', 'Hübel', 'de'), ('Gertrud', 'Pärtzelt', 'de'),
    ('Begoña', 'Castejón Arnaiz', 'es'), ('Saturnino', 'Blázquez Esparza', 'es'),
    ('Ascensión', 'Fuentes Mateu', 'es'), ('Enikő', 'Bognár', 'hu'), ('Jenő', 'Juhász', 'hu'),
    ('Áron', 'Pintér', 'hu'), ('Rareș', 'Diaconescu', 'ro'), ('Florența', 'Ardelean', 'ro'),
]
LATN_NEG = [  # (a_given, a_family, b_given, b_family, kind, note)
    ('Ekkehart', 'Köster', 'Ekkehart', 'Küster', 'simfam', 'Köster vs Küster'),
    ('Adolfine', 'Hübel', 'Adolfine', 'Hübner', 'simfam', 'Hübel vs Hübner'),
    ('Jenő', 'Kis', 'Jenő', 'Kiss', 'simfam', 'Kis vs Kiss (distinct Hungarian surnames)'),
    ('Jenő', 'Juhász', 'Jenő', 'Juhos', 'simfam', 'Juhász vs Juhos'),
    ('Rareș', 'Diaconescu', 'Rareș', 'Diaconu', 'simfam', 'Diaconescu vs Diaconu'),
    ('Radosław', 'Wróbel', 'Radosław', 'Wróblewski', 'simfam', 'Wróbel vs Wróblewski'),
    ('Bohumír', 'Pospíšil', 'Bohumír', 'Pospíchal', 'simfam', 'Pospíšil vs Pospíchal'),
    ('Lumír', 'Kratochvíl', 'Lubomír', 'Kratochvíl', 'simgiv', 'Lumír vs Lubomír'),
    ('Enikő', 'Bognár', 'Anikó', 'Bognár', 'simgiv', 'Enikő vs Anikó'),
    ('Áron', 'Pintér', 'Ákos', 'Pintér', 'simgiv', 'Áron vs Ákos'),
    ('Ascensión', 'Fuentes Mateu', 'Asunción', 'Fuentes Mateu', 'simgiv', 'Ascensión vs Asunción'),
    ('Gotthold', 'Süßebier', 'Gottfried', 'Süßebier', 'simgiv', 'Gotthold vs Gottfried'),
    ('Jaroslav', 'Kučera', 'Jaroslava', 'Kučerová', 'gender', 'Czech male vs female surname form'),
    ('Bogusław', 'Wróblewski', 'Bogusława', 'Wróblewska', 'gender', 'Polish -ski vs -ska'),
]

# ---------------------------------------------------------------------------
# Transliteration helpers
# ---------------------------------------------------------------------------
def strip_marks(s):
    s = s.replace('ł', 'l').replace('Ł', 'L').replace('ß', 'ss').replace('ı', 'i').replace('İ', 'I')
    return ''.join(c for c in unicodedata.normalize('NFKD', s) if not unicodedata.combining(c))


def de_fold(s):
    for a, b in (('ä', 'ae'), ('ö', 'oe'), ('ü', 'ue'), ('Ä', 'Ae'), ('Ö', 'Oe'), ('Ü', 'Ue'), ('ß', 'ss')):
        s = s.replace(a, b)
    return strip_marks(s)


def tr_upper(s):
    return s.replace('i', 'İ').replace('ı', 'I').upper()


def passport(s):
    """ICAO-style upper case: no diacritics, no apostrophes, hyphens -> space."""
    s = strip_marks(s).upper().replace("'", '').replace('-', ' ')
    return ' '.join(s.split())


def cap(s):
    return ' '.join('-'.join(p[:1].upper() + p[1:] for p in w.split('-')) for w in s.split())


RU_VOW = set('аеёиоуыэюяіїє')
RU_ICAO = dict(а='a', б='b', в='v', г='g', д='d', е='e', ё='e', ж='zh', з='z', и='i', й='i', к='k',
               л='l', м='m', н='n', о='o', п='p', р='r', с='s', т='t', у='u', ф='f', х='kh', ц='ts',
               ч='ch', ш='sh', щ='shch', ъ='ie', ы='y', ь='', э='e', ю='iu', я='ia')


def ru_tr(word, scheme):
    w = word.lower()
    out = []
    for i, ch in enumerate(w):
        prev = w[i - 1] if i else ''
        nxt = w[i + 1] if i + 1 < len(w) else ''
        start = i == 0 or prev in ' -'
        soft = start or prev in RU_VOW or prev in 'ьъй'
        between_v = prev in RU_VOW and nxt in RU_VOW
        end = i + 1 == len(w) or nxt in ' -'
        if ch not in RU_ICAO:
            out.append(ch)
            continue
        r = RU_ICAO[ch]
        if scheme == 'icao':
            pass
        elif scheme == 'old':
            r = {'й': 'y', 'ю': 'yu', 'я': 'ya', 'ъ': ''}.get(ch, r)
        elif scheme in ('bgn', 'en'):
            r = {'й': 'y', 'ю': 'yu', 'я': 'ya', 'ъ': ''}.get(ch, r)
            if ch == 'е' and soft:
                r = 'ye'
            if scheme == 'en' and ch == 'й' and end and prev in 'иы':
                r = ''
                out[-1] = 'y'
        elif scheme == 'de':
            r = dict(в='w', ж='sh', з='s', й='j', х='ch', ц='z', ч='tsch', ш='sch', щ='schtsch',
                     ю='ju', я='ja', ъ='', ё='jo').get(ch, r)
            if ch == 'е' and soft:
                r = 'je'
            if ch == 'с' and between_v:
                r = 'ss'
            if ch == 'й' and end and prev in 'иы':
                r = ''
        elif scheme == 'fr':
            r = dict(ж='j', ч='tch', ш='ch', щ='chtch', у='ou', ю='iou', я='ia', й='i', ъ='').get(ch, r)
            if ch == 'е' and (prev in RU_VOW or prev in 'ьъ') and prev != 'и' and not start:
                r = 'ie'
            if ch == 'с' and between_v:
                r = 'ss'
            if ch == 'г' and nxt in 'еиыяю':
                r = 'gu'
            if ch == 'й' and (end and prev in 'иы'):
                r = ''
            if ch == 'ч' and end:
                r = 'tch'
        out.append(r)
    return cap(''.join(out))


UK_MAP = dict(а='a', б='b', в='v', г='h', ґ='g', д='d', е='e', є='ie', ж='zh', з='z', и='y', і='i',
              ї='i', й='i', к='k', л='l', м='m', н='n', о='o', п='p', р='r', с='s', т='t', у='u',
              ф='f', х='kh', ц='ts', ч='ch', ш='sh', щ='shch', ь='', ю='iu', я='ia')
UK_MAP['ʼ'] = ''
UK_MAP["'"] = ''


def uk_tr(word, scheme):
    w = word.lower()
    out = []
    for i, ch in enumerate(w):
        prev = w[i - 1] if i else ''
        nxt = w[i + 1] if i + 1 < len(w) else ''
        start = i == 0 or prev in ' -'
        between_v = prev in RU_VOW and nxt in RU_VOW
        if ch not in UK_MAP:
            out.append(ch)
            continue
        r = UK_MAP[ch]
        if scheme == 'kmu':
            if start:
                r = {'є': 'ye', 'ї': 'yi', 'й': 'y', 'ю': 'yu', 'я': 'ya'}.get(ch, r)
            if ch == 'г' and prev == 'з':
                r = 'gh'
        elif scheme == 'ru':
            r = dict(г='g', и='i', ї='yi', є='ye', й='y', ю='yu', я='ya').get(ch, r)
        elif scheme == 'de':
            r = dict(в='w', ж='sh', з='s', й='j', х='ch', ц='z', ч='tsch', ш='sch', щ='schtsch',
                     ю='ju', я='ja', є='je', ї='ji').get(ch, r)
            if ch == 'с' and between_v:
                r = 'ss'
        out.append(r)
    return cap(''.join(out))


def el_base(s):
    s = unicodedata.normalize('NFD', s.lower())
    s = ''.join(c for c in s if c != '\u0301')
    return unicodedata.normalize('NFC', s)


EL_SINGLE = dict(α='a', β='v', γ='g', δ='d', ε='e', ζ='z', η='i', θ='th', ι='i', κ='k', λ='l', μ='m',
                 ν='n', ξ='x', ο='o', π='p', ρ='r', σ='s', ς='s', τ='t', υ='y', φ='f', χ='ch', ψ='ps',
                 ω='o', ϊ='i', ϋ='y')
EL_VOICED = set('αεηιουωβγδζλμνρϊϋ')


def el_tr(word, scheme):
    w = el_base(word)
    out = []
    i = 0
    while i < len(w):
        two = w[i:i + 2]
        start = i == 0 or w[i - 1] in ' -'
        nxt2 = w[i + 2] if i + 2 < len(w) else ''
        if two == 'ου':
            out.append('ou'); i += 2; continue
        if two in ('αυ', 'ευ', 'ηυ'):
            v = {'α': 'a', 'ε': 'e', 'η': 'i'}[two[0]]
            out.append(v + ('v' if nxt2 in EL_VOICED and nxt2 else 'f')); i += 2; continue
        if scheme == 'phon':
            if two in ('ει', 'οι', 'υι'):
                out.append('i'); i += 2; continue
            if two == 'αι':
                out.append('e'); i += 2; continue
            if start and two == 'γι' and nxt2 in 'αεοουω' and nxt2:
                out.append('y'); i += 2; continue
        if two == 'γγ':
            out.append('ng'); i += 2; continue
        if two == 'γκ':
            out.append('gk' if scheme == 'elot' else ('g' if start else 'ng')); i += 2; continue
        if two == 'γξ':
            out.append('nx'); i += 2; continue
        if two == 'γχ':
            out.append('nch'); i += 2; continue
        if two == 'μπ':
            out.append('b' if start else ('mb' if scheme == 'phon' else 'mp')); i += 2; continue
        if two == 'ντ':
            out.append('d' if (start and scheme != 'elot') else ('nd' if scheme == 'phon' else 'nt'))
            i += 2; continue
        ch = w[i]
        r = EL_SINGLE.get(ch, ch)
        if ch == 'χ' and scheme in ('press', 'phon'):
            r = 'h'
        if ch == 'υ' and scheme == 'phon':
            r = 'i'
        out.append(r)
        i += 1
    return cap(''.join(out))


def el_fem(m):
    for a, b in (('όπουλος', 'οπούλου'), ('ίδης', 'ίδου'), ('άκης', 'άκη'), ('ής', 'ή'), ('ης', 'η'),
                 ('ός', 'ού'), ('ος', 'ου'), ('άς', 'ά'), ('ας', 'α')):
        if m.endswith(a):
            return m[:-len(a)] + b
    return m


def ru_fem(m):
    if m.endswith('ий'):
        return m[:-2] + 'ая'
    return m + 'а'

# ---------------------------------------------------------------------------
# Script adapters: how a name component is written in native / Latin / passport
# ---------------------------------------------------------------------------
class Table:
    def __init__(self, *tables):
        self.t = {}
        for t in tables:
            self.t.update(t)

    def native(self, k):
        return k

    def latins(self, k):
        return self.t[k]

    def passports(self, k):
        return sorted({passport(v) for v in self.t[k]})


class Cyrl:
    def __init__(self):
        self.uk = set(UK_GIVEN_M + UK_GIVEN_F + UK_FAMILY + UK_PATR_M + UK_PATR_F + list(UK_FAMILY_GENDERED)
                      + list(UK_FAMILY_GENDERED.values()) + [b for _, b in UK_CONF_FAMILY + UK_CONF_GIVEN]
                      + [x for a, b, l in CYRL_GENDER if l == 'uk' for x in (a, b)])

    def native(self, k):
        return k

    def latins(self, k):
        if k in self.uk:
            v = [uk_tr(k, 'kmu'), uk_tr(k, 'ru'), uk_tr(k, 'de')]
        else:
            v = [ru_tr(k, s) for s in ('bgn', 'en', 'de', 'fr', 'old')]
        return list(dict.fromkeys(v))

    passport_drops_middle = True
    UK_OF = dict(kmu='kmu', ru='ru', de='de', bgn='kmu', en='kmu', fr='kmu', old='ru', icao='kmu')
    RU_OF = dict(kmu='bgn', ru='old', de='de', bgn='bgn', en='en', fr='fr', old='old', icao='icao')

    def styles(self, parts, mode):
        uk = any(k in self.uk for k in parts)
        if mode == 'P':
            return ['Pkmu'] if uk else ['Picao', 'Pold']
        return ['kmu', 'ru', 'de'] if uk else ['bgn', 'en', 'de', 'fr', 'old']

    def latin(self, k, style):
        up = style.startswith('P')
        st = style.lstrip('P')
        if k in self.uk:
            r = uk_tr(k, self.UK_OF[st])
        else:
            r = ru_tr(k, self.RU_OF[st])
        return r.upper() if up else r

    def passports(self, k):
        if k in self.uk:
            return [uk_tr(k, 'kmu').upper()]
        return list(dict.fromkeys([ru_tr(k, 'icao').upper(), ru_tr(k, 'old').upper()]))


class Greek:
    def styles(self, parts, mode):
        return ['Pelot'] if mode == 'P' else ['elot', 'press', 'phon']

    def latin(self, k, style):
        return el_tr(k, 'elot').upper() if style == 'Pelot' else el_tr(k, style)

    def native(self, k):
        return k

    def latins(self, k):
        return list(dict.fromkeys([el_tr(k, 'elot'), el_tr(k, 'press'), el_tr(k, 'phon')]))

    def passports(self, k):
        return [el_tr(k, 'elot').upper()]


class Turkish:
    def styles(self, parts, mode):
        return ['Ptr', 'Pascii'] if mode == 'P' else ['fold', 'fold', 'de']

    def latin(self, k, style):
        if style == 'Ptr':
            return tr_upper(k)
        if style == 'Pascii':
            return passport(k)
        if style == 'de':
            return de_fold(k)
        return rng.choice([strip_marks(k)] + TR_ALT.get(k, []))

    def native(self, k):
        return k

    def latins(self, k):
        v = [strip_marks(k), de_fold(k)] + TR_ALT.get(k, []) + [strip_marks(x) for x in TR_ALT.get(k, [])]
        return [x for x in dict.fromkeys(v) if x != k] or [strip_marks(k)]

    def passports(self, k):
        return list(dict.fromkeys([tr_upper(k), passport(k)]))


class LatinAd(Turkish):
    def styles(self, parts, mode):
        return ['Pascii', 'Pde'] if mode == 'P' else ['fold', 'de']

    def latin(self, k, style):
        if style == 'Pascii':
            return passport(k)
        if style == 'Pde':
            return passport(de_fold(k))
        return de_fold(k) if style == 'de' else strip_marks(k)

    def latins(self, k):
        v = [strip_marks(k), de_fold(k)]
        return [x for x in dict.fromkeys(v) if x != k] or [k]

    def passports(self, k):
        return list(dict.fromkeys([passport(k), passport(de_fold(k))]))

# ---------------------------------------------------------------------------
# Pair generation
# ---------------------------------------------------------------------------
rng = random.Random(BUILD_SEED)
D0 = datetime.date(1962, 1, 1).toordinal()
D1 = datetime.date(2009, 12, 31).toordinal()


def rand_date():
    return datetime.date.fromordinal(rng.randint(D0, D1))


def fmt(d, f):
    if f == 'full':
        return d.isoformat()
    if f == 'ym':
        return d.isoformat()[:7]
    if f == 'y':
        return d.isoformat()[:4]
    return ''


def pos_dates(d):
    rel = rng.choices(['full-full', 'full-y', 'full-ym', 'full-empty', 'y-y', 'empty-empty'],
                      [24, 24, 10, 14, 10, 18])[0]
    fa, fb = rel.split('-')
    if rng.random() < 0.5:
        fa, fb = fb, fa
    note = {'full-full': 'same DOB', 'full-y': 'year-only vs full DOB', 'full-ym': 'year-month vs full DOB',
            'full-empty': 'one DOB missing', 'y-y': 'same birth year', 'empty-empty': 'no DOB'}[rel]
    return fmt(d, fa), fmt(d, fb), note


def name_conf_dates():
    d = rand_date()
    r = rng.choices(['ee', 'oe', 'yy', 'ff'], [40, 30, 15, 15])[0]
    if r == 'ee':
        return '', '', ''
    if r == 'oe':
        return (fmt(d, 'full'), '', '') if rng.random() < .5 else ('', fmt(d, 'y'), '')
    if r == 'yy':
        return fmt(d, 'y'), fmt(d, 'y'), 'same birth year'
    d2 = rand_date()
    return fmt(d, 'full'), fmt(d2, 'full'), ''


def diff_dates():
    d = rand_date()
    gap = rng.randint(3, 18) * rng.choice([1, -1])
    y2 = min(2009, max(1955, d.year + gap))
    if y2 == d.year:
        y2 = d.year - 5
    d2 = datetime.date(y2, rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.75:
        return fmt(d, 'full'), fmt(d2, 'full'), 'DOB %s vs %s' % (d.year, d2.year)
    return fmt(d, 'full'), fmt(d2, 'y'), 'DOB year disagrees'


class Person:
    def __init__(self, given, family, middle=None, dob=None, lang=None):
        self.given, self.family, self.middle, self.lang = given, family, middle, lang
        self.dob = dob or rand_date()


def render(ad, p, mode, swap=False, drop_middle=False, yeh=False):
    """mode: 'N' native, 'L' Latin spelling, 'P' passport upper case.
    Rule-based scripts use one romanisation system for the whole name."""
    if mode == 'P' and getattr(ad, 'passport_drops_middle', False):
        drop_middle = True
    parts = [p.given] + ([p.middle] if p.middle and not drop_middle else []) + [p.family]
    if swap:
        parts = [parts[-1]] + parts[:-1]
    style = rng.choice(ad.styles(parts, mode)) if hasattr(ad, 'styles') else None
    out = []
    for k in parts:
        if mode == 'N':
            s = ad.native(k)
            if yeh:
                s = s.replace('ی', 'ي').replace('ک', 'ك')
        elif style is not None:
            s = ad.latin(k, style)
            if mode == 'P' and not style.startswith('P'):
                s = passport(s)
        elif mode == 'L':
            s = rng.choice(ad.latins(k))
        else:
            s = rng.choice(ad.passports(k))
        out.append(s)
    return ' '.join(out)


MODE_NOTE = {'N': 'native', 'L': 'Latin', 'P': 'passport'}


class Builder:
    def __init__(self):
        self.rows = []
        self.seen = set()

    def add(self, a, ab, b, bb, same, group, note):
        key = (a, ab, b, bb)
        if a == b and ab == bb:
            return False
        if key in self.seen or (b, bb, a, ab) in self.seen:
            return False
        self.seen.add(key)
        self.rows.append((a, ab, b, bb, str(same), group, note))
        return True


B = Builder()
POS_KINDS = ['N-L', 'L-N', 'L-L', 'P-N', 'P-L', 'swap', 'nomid', 'N-P', 'L-L', 'N-L']


def positive(ad, p, group, kind, extra=None):
    for _ in range(30):
        ab, bb, dnote = pos_dates(p.dob)
        swap = drop = yeh = False
        if kind == 'swap':
            ma, mb = rng.choice([('N', 'L'), ('L', 'L'), ('P', 'N'), ('L', 'P'), ('N', 'N')])
            note = 'given/family swapped, %s vs %s' % (MODE_NOTE[ma], MODE_NOTE[mb])
            swap = True
        elif kind == 'nomid':
            ma, mb = rng.choice([('N', 'L'), ('N', 'P'), ('L', 'L'), ('N', 'N'), ('L', 'P')])
            note = '%s missing, %s vs %s' % (extra or 'middle name', MODE_NOTE[ma], MODE_NOTE[mb])
            drop = True
        elif kind == 'yeh':
            ma, mb = 'N', rng.choice(['L', 'P'])
            note = 'Arabic yeh/kaf in Persian name vs %s' % MODE_NOTE[mb]
            yeh = True
        else:
            ma, mb = kind.split('-')
            note = '%s vs %s' % (MODE_NOTE[ma], MODE_NOTE[mb]) if ma != mb else 'two Latin spellings'
        a = render(ad, p, ma, yeh=yeh)
        b = render(ad, p, mb, swap=swap, drop_middle=drop)
        if a == b:
            continue
        if rng.random() < 0.5 and kind not in ('swap', 'nomid', 'yeh'):
            a, b, ab, bb = b, a, bb, ab
        if getattr(ad, 'passport_drops_middle', False) and p.middle and 'P' in (ma, mb) and not drop:
            note += ' (Latin passport line has no patronymic)'
        if B.add(a, ab, b, bb, 1, group, note + '; ' + dnote):
            return True
    if kind != 'P-N':
        return positive(ad, p, group, 'P-N', extra)
    raise RuntimeError('could not make positive %s %s' % (group, kind))


def neg_pair(ad, p, q, group, note, dates=None):
    for _ in range(30):
        ma = rng.choice('NLLP')
        mb = rng.choice('NLLP')
        a = render(ad, p, ma)
        b = render(ad, q, mb)
        ab, bb, dn = dates() if dates else name_conf_dates()
        n = note + (', %s vs %s' % (MODE_NOTE[ma], MODE_NOTE[mb]))
        if dn:
            n += '; ' + dn
        if B.add(a, ab, b, bb, 0, group, n):
            return True
    raise RuntimeError('could not make negative ' + group)


def same_name_diff_dob(ad, p, group):
    for _ in range(30):
        ma, mb = rng.choice([('N', 'L'), ('L', 'P'), ('N', 'P'), ('L', 'L'), ('N', 'N')])
        a = render(ad, p, ma)
        b = render(ad, p, mb)
        ab, bb, dn = diff_dates()
        if B.add(a, ab, b, bb, 0, group, 'same name, %s; %s vs %s' % (dn, MODE_NOTE[ma], MODE_NOTE[mb])):
            return True
    raise RuntimeError('dob neg')


def pick_cycle(lst, n):
    lst = list(lst)
    rng.shuffle(lst)
    return [lst[i % len(lst)] for i in range(n)]


N_POS, N_SIMFAM, N_SIMGIV, N_DOB, N_EASY = 38, 10, 10, 7, 3


def table_group(group, ad, pools, conf_given, conf_family, middles=None, mid_prob=0.0, mid_note='middle name',
                mid_male_only=False):
    """pools: list of (given_m_keys, given_f_keys, family_keys, middle_keys_or_None)."""
    persons, seen, i = [], set(), 0
    while len(persons) < N_POS + N_DOB + 2 * N_EASY:
        gm, gf, fam, mids = pools[i % len(pools)]
        i += 1
        given = rng.choice(gm + gf)
        mid = rng.choice(mids) if mids and rng.random() < mid_prob else None
        if mid_male_only and given not in gm:
            mid = None
        if mid == given:
            mid = None
        p = Person(given, rng.choice(fam), mid)
        if (p.given, p.family) not in seen:
            seen.add((p.given, p.family))
            persons.append(p)
    kinds = pick_cycle(POS_KINDS, N_POS)
    if group == 'fa':
        kinds[:4] = ['yeh'] * 4
    with_mid = [p for p in persons if p.middle]
    for i, k in enumerate(kinds):
        p = persons[i]
        if k == 'nomid':
            if not with_mid:
                k = 'L-L'
            else:
                p = with_mid[i % len(with_mid)]
        positive(ad, p, group, k, mid_note)
    all_given = [g for gm, gf, _, _ in pools for g in gm + gf]
    all_fam = [f for _, _, fam, _ in pools for f in fam]
    for x, y in pick_cycle(conf_family, N_SIMFAM):
        g = rng.choice(all_given)
        neg_pair(ad, Person(g, x), Person(g, y), group, 'same given, similar family (%s/%s)' % (ad.latins(x)[0], ad.latins(y)[0]))
    for x, y in pick_cycle(conf_given, N_SIMGIV):
        f = rng.choice(all_fam)
        neg_pair(ad, Person(x, f), Person(y, f), group, 'same family, similar given (%s/%s)' % (ad.latins(x)[0], ad.latins(y)[0]))
    for p in persons[N_POS:N_POS + N_DOB]:
        same_name_diff_dob(ad, p, group)
    rest = persons[N_POS + N_DOB:]
    for i in range(N_EASY):
        p, q = rest[2 * i], rest[2 * i + 1]
        neg_pair(ad, p, q, group, 'easy: unrelated names',
                 dates=lambda: (fmt(rand_date(), 'full'), fmt(rand_date(), rng.choice(['full', 'y', ''])), ''))


def build_table_groups():
    ar = Table(AR_GIVEN_M, AR_GIVEN_F, AR_FAMILY, AR_PARTNER_GIVEN, AR_PARTNER_FAMILY)
    table_group('ar', ar, [(list(AR_GIVEN_M), list(AR_GIVEN_F), list(AR_FAMILY), list(AR_GIVEN_M))],
                AR_CONF_GIVEN, AR_CONF_FAMILY, mid_prob=0.35, mid_note="father's name")
    fa = Table(FA_GIVEN_M, FA_GIVEN_F, FA_FAMILY, FA_PARTNER_GIVEN, FA_PARTNER_FAMILY)
    table_group('fa', fa, [(list(FA_GIVEN_M), list(FA_GIVEN_F), list(FA_FAMILY), None)],
                FA_CONF_GIVEN, FA_CONF_FAMILY)
    up = Table(UR_GIVEN_M, UR_GIVEN_F, UR_FAMILY, UR_MIDDLE, PS_GIVEN_M, PS_GIVEN_F, PS_FAMILY, PS_MIDDLE, URPS_PARTNER)
    table_group('ur-ps', up, [(list(UR_GIVEN_M), list(UR_GIVEN_F), list(UR_FAMILY), list(UR_MIDDLE)),
                              (list(PS_GIVEN_M), list(PS_GIVEN_F), list(PS_FAMILY), list(PS_MIDDLE))],
                URPS_CONF_GIVEN, URPS_CONF_FAMILY, mid_prob=0.45, mid_male_only=True, mid_note='middle name (Khan/Jan/Gul/Ahmad/Ali)')


def build_turkish():
    ad = Turkish()
    persons = []
    seen = set()
    while len(persons) < N_POS + N_DOB + 2 * N_EASY:
        pool = TR_GIVEN_M if rng.random() < .55 else TR_GIVEN_F
        g = rng.choice(pool)
        m = rng.choice([x for x in pool if x != g]) if rng.random() < 0.3 else None
        f = rng.choice(TR_FAMILY)
        if (g, f) in seen:
            continue
        seen.add((g, f))
        persons.append(Person(g, f, m))
    kinds = pick_cycle(['N-L', 'L-N', 'N-P', 'P-N', 'P-L', 'swap', 'nomid', 'N-L', 'L-L', 'N-P'], N_POS)
    with_mid = [p for p in persons if p.middle]
    for i, k in enumerate(kinds):
        p = persons[i]
        if k == 'nomid':
            p = with_mid[i % len(with_mid)]
        positive(ad, p, 'tr', k, 'second given name')
    for x, y in pick_cycle(TR_CONF_FAMILY, N_SIMFAM):
        g = rng.choice(TR_GIVEN_M + TR_GIVEN_F)
        neg_pair(ad, Person(g, x), Person(g, y), 'tr', 'same given, similar family (%s/%s)' % (x, y))
    for x, y in pick_cycle(TR_CONF_GIVEN, N_SIMGIV):
        f = rng.choice(TR_FAMILY)
        neg_pair(ad, Person(x, f), Person(y, f), 'tr', 'same family, similar given (%s/%s)' % (x, y))
    for p in persons[N_POS:N_POS + N_DOB]:
        same_name_diff_dob(ad, p, 'tr')
    rest = persons[N_POS + N_DOB:]
    for i in range(N_EASY):
        neg_pair(ad, rest[2 * i], rest[2 * i + 1], 'tr', 'easy: unrelated names',
                 dates=lambda: (fmt(rand_date(), 'full'), fmt(rand_date(), 'full'), ''))


N_GENDER = 6
MALE_OF = {}
MALE_OF.update({ru_fem(m): m for m in RU_FAMILY_M})
MALE_OF.update({v: k for k, v in UK_FAMILY_GENDERED.items()})
MALE_OF.update({el_fem(m): m for m in EL_FAMILY_M if el_fem(m) != m})
GS_SIMFAM, GS_SIMGIV, GS_DOB = 8, 7, 6


def gendered_group(group, ad, make_person, conf_family, conf_given, gender_pairs, fem, cross_forms, cross_note, cross_family):
    persons = []
    seen = set()
    while len(persons) < N_POS + GS_DOB + 2 * N_EASY:
        p = make_person()
        if (p.given, p.family) in seen:
            continue
        seen.add((p.given, p.family))
        persons.append(p)
    kinds = pick_cycle(POS_KINDS, N_POS - 4)
    with_mid = [p for p in persons if p.middle]
    for i, k in enumerate(kinds):
        p = persons[i]
        if k == 'nomid':
            p = with_mid[i % len(with_mid)]
        positive(ad, p, group, k, 'patronymic' if group == 'cyrl' else "father's name")
    female_given = set(RU_GIVEN_F + UK_GIVEN_F + EL_GIVEN_F + [y for x, y in conf_given if x in RU_GIVEN_F + UK_GIVEN_F + EL_GIVEN_F])
    # cross-form positives: native official form vs everyday / Russian form
    i = 0
    for official, other in list(cross_forms.items())[:4]:
        p = persons[N_POS - 4 + i]
        i += 1
        fam = cross_family(official)
        q = Person(other, fam, None, p.dob)
        p2 = Person(official, fam, p.middle if not p.middle or ('вна' in p.middle) == (official in female_given) else None, p.dob)
        for _ in range(30):
            ab, bb, dn = pos_dates(p.dob)
            a = render(ad, p2, rng.choice('NP'))
            b = render(ad, q, rng.choice('NL'), drop_middle=True)
            if B.add(a, ab, b, bb, 1, group, cross_note + '; ' + dn):
                break
    female_given = set(RU_GIVEN_F + UK_GIVEN_F + EL_GIVEN_F + [y for x, y in conf_given if x in RU_GIVEN_F + UK_GIVEN_F + EL_GIVEN_F])
    for x, y in pick_cycle(conf_family, GS_SIMFAM):
        p = rng.choice(persons)
        g = p.given
        if g in female_given:
            x2, y2 = fem(x), fem(y)
        else:
            x2, y2 = x, y
        neg_pair(ad, Person(g, x2), Person(g, y2), group, 'same given, similar family (%s/%s)' % (ad.latins(x2)[0], ad.latins(y2)[0]))
    for x, y in pick_cycle(conf_given, GS_SIMGIV):
        p = rng.choice(persons)
        f = p.family
        base = MALE_OF.get(f, f)
        f = fem(base) if x in female_given else base
        neg_pair(ad, Person(x, f), Person(y, f), group, 'same family, similar given (%s/%s)' % (ad.latins(x)[0], ad.latins(y)[0]))
    for p in persons[N_POS:N_POS + GS_DOB]:
        same_name_diff_dob(ad, p, group)
    for gm, gf, fm in gender_pairs:
        ff = fem(fm)
        def twin_dates():
            d = rand_date()
            r = rng.random()
            if r < 0.4:
                return fmt(d, 'full'), fmt(d, 'full'), 'same DOB (twins)'
            if r < 0.7:
                return '', '', ''
            return fmt(d, 'y'), '', ''
        note = 'male vs female surname form (%s/%s)' % (ad.latins(fm)[0], ad.latins(ff)[0])
        if gm == gf:
            note += ', same unisex given name'
        neg_pair(ad, Person(gm, fm), Person(gf, ff), group, note, dates=twin_dates)
    rest = persons[N_POS + GS_DOB:]
    for i in range(N_EASY):
        neg_pair(ad, rest[2 * i], rest[2 * i + 1], group, 'easy: unrelated names',
                 dates=lambda: (fmt(rand_date(), 'full'), fmt(rand_date(), 'full'), ''))


def build_cyrl():
    ad = Cyrl()

    def fem(m):
        if m in UK_FAMILY_GENDERED:
            return UK_FAMILY_GENDERED[m]
        if m in ad.uk:
            return m
        return ru_fem(m)

    def make_person():
        if rng.random() < 0.6:
            female = rng.random() < 0.45
            g = rng.choice(RU_GIVEN_F if female else RU_GIVEN_M)
            fm = rng.choice(RU_FAMILY_M)
            return Person(g, ru_fem(fm) if female else fm, rng.choice(RU_PATR_F if female else RU_PATR_M))
        female = rng.random() < 0.45
        g = rng.choice(UK_GIVEN_F if female else UK_GIVEN_M)
        fm = rng.choice(UK_FAMILY + list(UK_FAMILY_GENDERED))
        return Person(g, fem(fm) if female else fm, rng.choice(UK_PATR_F if female else UK_PATR_M))

    conf_family = RU_CONF_FAMILY + UK_CONF_FAMILY
    conf_given = RU_CONF_GIVEN + UK_CONF_GIVEN
    gp = pick_cycle(CYRL_GENDER, N_GENDER)
    gender_pairs = [(a, b, rng.choice(RU_FAMILY_M) if l == 'ru' else rng.choice(list(UK_FAMILY_GENDERED)))
                    for a, b, l in gp]
    ad.uk.update(UK_RU_FORM)  # Ukrainian forms use KMU; Russian forms (values) use Russian rules
    gendered_group('cyrl', ad, make_person, conf_family, conf_given, gender_pairs, fem,
                   {k: v for k, v in UK_RU_FORM.items()}, 'Ukrainian vs Russian form of given name, patronymic missing',
                   lambda g: fem(rng.choice(UK_FAMILY)) if g in UK_GIVEN_F else rng.choice(UK_FAMILY))


def build_greek():
    ad = Greek()

    def make_person():
        female = rng.random() < 0.45
        g = rng.choice(EL_GIVEN_F if female else EL_GIVEN_M)
        fm = rng.choice(EL_FAMILY_M)
        mid = rng.choice(EL_FATHER) if rng.random() < 0.35 else None
        return Person(g, el_fem(fm) if female else fm, mid)

    gp = pick_cycle(EL_GENDER, N_GENDER)
    gender_pairs = [(a, b, rng.choice(EL_FAMILY_M[:21])) for a, b in gp]
    gendered_group('el', ad, make_person, EL_CONF_FAMILY, EL_CONF_GIVEN, gender_pairs, el_fem,
                   dict(EL_FORMAL, **{'Παναγιώτης': 'Πάνος', 'Κωνσταντίνος': 'Κώστας'}),
                   "formal vs everyday form of given name, father's name missing",
                   lambda g: rng.choice(EL_FAMILY_M))


def build_latn():
    ad = LatinAd()
    persons = [Person(g, f, None, lang=o) for g, f, o in LATN_PERSONS]
    kinds = ['N-L', 'L-N', 'N-P', 'P-N', 'P-L', 'L-L', 'N-P', 'N-L', 'P-L', 'N-L',
             'swap', 'swap', 'N-L', 'P-N', 'N-P', 'L-P', 'N-L', 'P-L', 'N-L', 'N-P']
    for p, k in zip(persons, kinds):
        if p.lang == 'hu':   # Hungarian native order is family-first
            ab, bb, dn = pos_dates(p.dob)
            a = p.family + ' ' + p.given
            b = render(ad, p, rng.choice('LP'))
            B.add(a, ab, b, bb, 1, 'latn', 'Hungarian family-first vs Western order, diacritics; ' + dn)
            continue
        if p.lang == 'es':   # second surname missing
            ab, bb, dn = pos_dates(p.dob)
            a = p.given + ' ' + p.family
            b = render(ad, Person(p.given, p.family.split()[0]), rng.choice('LP'))
            B.add(a, ab, b, bb, 1, 'latn', 'second surname missing, diacritics; ' + dn)
            continue
        if k == 'L-P' and p.lang == 'de':
            k = 'N-L'
        positive(ad, p, 'latn', k)
    for ag, af, bg, bf, kind, note in LATN_NEG:
        d = (lambda: (fmt(rand_date(), 'full'),) * 2 + ('same DOB (twins)',)) if kind == 'gender' else None
        neg_pair(ad, Person(ag, af), Person(bg, bf), 'latn', note, dates=d)
    # same name, different DOB
    for p in persons[:2]:
        same_name_diff_dob(ad, Person(p.given, p.family), 'latn')
    # easy negatives
    neg_pair(ad, persons[2], persons[12], 'latn', 'easy: unrelated names',
             dates=lambda: (fmt(rand_date(), 'full'), fmt(rand_date(), 'full'), ''))
    neg_pair(ad, persons[6], persons[18], 'latn', 'easy: unrelated names',
             dates=lambda: ('', fmt(rand_date(), 'y'), ''))

README_TEMPLATE = r'''# Person-name matching HOLDOUT set

`pairs.tsv` is a small labelled set of name pairs for measuring accord's
person-name search on names it has **never been tuned on**. It is a
holdout: do not use it to choose thresholds, weights or rules. If it is
ever used for tuning, it stops being a holdout and must be replaced.

It was built independently of the matcher and of the tuning set in
`tests/data/names/`: neither was read while writing it, and the names
are drawn from different sources (see below).

## Files

- `pairs.tsv` - the pairs (UTF-8, LF line ends, one header line).
- `build.py` - writes `pairs.tsv` and this README from the tables inside
  it. Standard library only: `python3 build.py`. Output is deterministic
  (fixed seed @SEED@); the script validates the file it wrote.

## Columns

| column | meaning |
|---|---|
| `a` | full name as written in one record |
| `a_born` | date of birth of `a`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or empty |
| `b` | full name as written in the other record |
| `b_born` | date of birth of `b`, same formats |
| `same` | `1` = one person (spelling/script/order variants, missing middle name, patronymic or father's name, compatible dates); `0` = different people |
| `group` | `fa` Persian, `ar` Arabic, `ur-ps` Urdu/Pashto, `tr` Turkish, `el` Greek, `cyrl` Russian/Ukrainian, `latn` other Latin-script names |
| `note` | what varies between `a` and `b` (and the renderings used) |

Dates are "compatible" when they agree to the precision both give (a year
against a full date of that year, or one side empty). A negative with
"same name, DOB ..." has the same name but disagreeing dates.

## Counts (computed by build.py)

@COUNTS@
Positives: @POSPCT@ %. Negatives: @HARD@ hard, @EASY@ easy (@EASYPCT@ % of
negatives are easy, i.e. unrelated names).

Hard negatives are of these kinds:

- same given name, similar family name (al-Husayni / al-Hasani, Kolobov /
  Kolobkov, Şener / Şeker, Achakzai / Ahmadzai, Köster / Küster ...);
- same family name, similar given name (Ziyad / Zayid, Maedeh / Mahdieh,
  Yalgın / Yalçın, Stavros / Spyros, Samina / Saima ...);
- same name with disagreeing dates of birth;
- `cyrl` and `el` (and Czech/Polish in `latn`): male vs female surname
  forms (Muravyev / Muravyeva, Kovalskyi / Kovalska, Gkouvelos /
  Gkouvelou, Zidianakis / Zidianaki), with paired given names
  (Aleksandr / Aleksandra, Evgenios / Evgenia) or one unisex given name
  (Sasha, Zhenya), often with the same date of birth (twins).

Positives cover: native script vs Latin both ways; two Latin spellings of
the same name; passport (ICAO, upper case, no diacritics) forms against
native and press spellings; given/family swapped; missing middle name,
second given name, father's name or patronymic (Russian/Ukrainian Latin
passport lines carry no patronymic); Turkish with vs without its special
letters (and German ue/oe forms); year-only or year-month vs full date;
Persian written with Arabic yeh/kaf; Ukrainian vs Russian form of the
given name (Dmytro / Dmitriy); Greek formal vs everyday given name
(Ioannis / Giannis); Hungarian family-first order; Spanish second surname
missing.

## Sources and licences

- Native-script given and family names for `fa`, `ar`, `tr`, `el`, `cyrl`
  and the given names/surnames in `latn` were chosen from the name lists
  of the Python package **Faker @FAKER@** (MIT licence,
  https://github.com/joke2k/faker), locales `fa_IR`, `ar_AA`, `ar_SA`,
  `ar_PS`, `el_GR`, `ru_RU`, `uk_UA`, `tr_TR` and `pl_PL`, `cs_CZ`,
  `de_DE`, `es_ES`, `hu_HU`, `ro_RO`. Faker @FAKER@ has no person
  provider for `ar_EG` or `ar_JO`, so `ar_PS` was used instead.
  Candidates were drawn with `random.seed(@PICKSEED@)` and copied into the
  tables in `build.py`; Faker itself is not needed to rebuild. Persian
  names were normalised to Persian yeh/kaf (ی ک) in the tables.
- Urdu and Pashto names, the partner names used for hard negatives
  (e.g. الحسني, آرمین, Беляков, Σπύρος, Yalçın), all Latin spellings and
  all labels were written by the accord project and are released under
  the project's licence, Apache-2.0.

## Method

1. Persons are made by combining a given name (and sometimes a middle
   name, father's name, patronymic or second given name) with a family
   name from the same group, plus a random date of birth 1962-2009.
2. Each is written in native script, in a Latin spelling, or as a
   passport line:
   - Arabic, Persian, Urdu, Pashto: hand-written tables of Latin
     spellings following real practice (BGN/PCGN-like, English press,
     French `ou`/`ch`/`dj` and German `sch`/`dsch` forms,
     al-/Al /El /joined articles); passport = upper case, no
     apostrophes or hyphens.
   - Russian: ICAO 9303 (passports since 2010), the older Russian passport
     system (`-iy`, `yu`, `ya`), BGN/PCGN, English press (`-y`), German
     Duden-style and French transcription.
   - Ukrainian: the official 2010 (KMU) system used in passports,
     Russian-style letters, and German transcription.
   - Greek: ELOT 743 (passports), English press (`h` for χ, initial
     `b`/`d`/`g` for μπ/ντ/γκ) and a phonetic style (`i` for η/υ/ει/οι).
   - Turkish: Turkish letters, ASCII without them, German `ue`/`oe`,
     Turkish upper case with İ, ASCII upper case.
   One romanisation system is used for the whole of a name in the
   rule-based groups; in the table groups each part is spelled
   independently, as happens when records come from different sources.
3. Positive pairs vary the script, spelling, order, middle part and date
   precision of one person; negative pairs are built from the confusable
   name lists, from the same name with different dates, from male/female
   surname forms, and a few unrelated names.
4. Duplicate pairs (in either order) are removed; every line is checked
   for 7 fields and valid dates.

## Limits

- Small: about 60-70 pairs per script group; differences of a few pairs
  are not significant.
- Labels are by construction, not from real case files: a positive is a
  positive because the build wrote one person twice. Real records have
  typos, truncation and OCR errors that this set does not model.
- Hand-written spellings reflect common practice but are not exhaustive;
  the rule-based romanisations simplify some rules (e.g. Ё is treated as
  Е, Greek stress and final-position rules are simplified).
- Negatives with similar names assume that two different names mean two
  people; some "same name, different DOB" negatives could in real data be
  one person with a wrong date.
- Person names are synthetic combinations; any match to a real person is
  coincidental.
'''

# ---------------------------------------------------------------------------
GROUPS = ['fa', 'ar', 'ur-ps', 'tr', 'el', 'cyrl', 'latn']


def validate(rows):
    seen = set()
    for r in rows:
        assert len(r) == 7, r
        a, ab, b, bb, same, group, note = r
        assert a and b and note and same in ('0', '1') and group in GROUPS, r
        for f in r:
            assert '\t' not in f and '\n' not in f and f == f.strip(), r
        for d in (ab, bb):
            if d:
                n = len(d)
                assert n in (4, 7, 10), d
                datetime.datetime.strptime(d, {4: '%Y', 7: '%Y-%m', 10: '%Y-%m-%d'}[n])
        k = (a, ab, b, bb)
        assert k not in seen and (b, bb, a, ab) not in seen, r
        seen.add(k)
        assert not (a == b and ab == bb), r


def counts(rows):
    c = {g: [0, 0] for g in GROUPS}
    kinds = {'easy': 0, 'hard': 0}
    for r in rows:
        c[r[5]][0 if r[4] == '1' else 1] += 1
        if r[4] == '0':
            kinds['easy' if r[6].startswith('easy') else 'hard'] += 1
    return c, kinds


def main():
    build_table_groups()
    build_turkish()
    build_greek()
    build_cyrl()
    build_latn()
    rows = sorted(B.rows, key=lambda r: GROUPS.index(r[5]))
    validate(rows)
    with open(os.path.join(HERE, 'pairs.tsv'), 'w', encoding='utf-8', newline='\n') as fh:
        fh.write('a\ta_born\tb\tb_born\tsame\tgroup\tnote\n')
        for r in rows:
            fh.write('\t'.join(r) + '\n')
    # re-read and validate the file itself
    with open(os.path.join(HERE, 'pairs.tsv'), encoding='utf-8') as fh:
        lines = fh.read().split('\n')
    assert lines[-1] == ''
    back = [tuple(l.split('\t')) for l in lines[1:-1]]
    validate(back)
    c, kinds = counts(back)
    tot_p = sum(v[0] for v in c.values())
    tot_n = sum(v[1] for v in c.values())
    table = '| group | positive | negative | total |\n|---|---:|---:|---:|\n'
    for g in GROUPS:
        table += '| %s | %d | %d | %d |\n' % (g, c[g][0], c[g][1], sum(c[g]))
    table += '| **all** | %d | %d | %d |\n' % (tot_p, tot_n, tot_p + tot_n)
    tpl = README_TEMPLATE
    readme = (tpl.replace('@COUNTS@', table)
                 .replace('@POSPCT@', '%.1f' % (100.0 * tot_p / (tot_p + tot_n)))
                 .replace('@EASY@', str(kinds['easy'])).replace('@HARD@', str(kinds['hard']))
                 .replace('@EASYPCT@', '%.1f' % (100.0 * kinds['easy'] / tot_n))
                 .replace('@FAKER@', FAKER_VERSION).replace('@SEED@', str(BUILD_SEED))
                 .replace('@PICKSEED@', str(FAKER_PICK_SEED)))
    with open(os.path.join(HERE, 'README.md'), 'w', encoding='utf-8', newline='\n') as fh:
        fh.write(readme)
    for g in GROUPS:
        print('%-6s pos %3d neg %3d' % (g, c[g][0], c[g][1]))
    print('total %d (%d pos = %s%%), negatives: %d hard, %d easy' %
          (tot_p + tot_n, tot_p, '%.1f' % (100.0 * tot_p / (tot_p + tot_n)), kinds['hard'], kinds['easy']))


if __name__ == '__main__':
    main()
