# A user practising the built-in bedtime routine (docs/press-profiles.md).
# Dose steps end when 60 s are held inside the band; the hand keeps pressing a little longer,
# lets go, and finds the next point during the 4 s transition.
# start the routine with a short press of the button, then find HT7
button short
wait 2s
# HT7, left wrist: about 4 kg, a steady but human hand
press 4kg for 66s ramp 800ms noise 3%
release ramp 400ms
wait 5s
# HT7, right wrist
press 4.2kg for 66s ramp 800ms noise 3%
release ramp 400ms
wait 5s
# Yin Tang, gently (this step's band is 2-4 kg)
press 3kg for 62s ramp 800ms noise 3%
release ramp 400ms
wait 5s
# GB20, both thumbs, small circles: a little more wobble
press 4kg for 122s ramp 1s noise 5%
release ramp 500ms
# breathing: hands off
wait 45s
